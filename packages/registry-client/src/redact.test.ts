import { describe, expect, it } from "vitest";
import { RegistryError } from "./errors.js";
import { REDACTED, redactHeaders, redactText, redactUrl, registerSecret } from "./redact.js";

describe("redactUrl", () => {
  it.each([
    ["https://r/token?scope=x&access_token=abc", "https://r/token?scope=x&access_token=REDACTED"],
    [
      "https://s3/b?X-Amz-Signature=abc&X-Amz-Credential=k&x=1",
      "https://s3/b?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&x=1",
    ],
    ["https://user:pw@r/v2/", "https://REDACTED@r/v2/"],
    ["https://r/v2/a/manifests/latest", "https://r/v2/a/manifests/latest"],
    ["https://cdn/x?sig=1&se=2", "https://cdn/x?sig=REDACTED&se=2"],
  ])("%s", (input, want) => {
    expect(redactUrl(input)).toBe(want);
  });
});

describe("redactText", () => {
  it("scrubs bearer/basic values, JSON token fields, query tokens and registered secrets", () => {
    registerSecret("hunter2-very-secret");
    const text =
      'Authorization: Bearer eyJhbGciOi.x.y Basic dXNlcjpwYXNz {"token":"t0k","access_token":"a"} ' +
      "https://x/?refresh_token=r1 password hunter2-very-secret";
    const out = redactText(text);
    for (const secret of ["eyJhbGciOi", "dXNlcjpwYXNz", "t0k", '"a"', "r1", "hunter2-very-secret"]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain(REDACTED);
  });

  it("never lets a secret into a RegistryError message", () => {
    registerSecret("pa55-w0rd-xyz");
    const err = new RegistryError("UNAUTHORIZED", "server said: bad password pa55-w0rd-xyz", {
      method: "GET",
      url: "https://me:pa55-w0rd-xyz@r/token?token=abc",
    });
    expect(err.message).not.toContain("pa55-w0rd-xyz");
    expect(err.message).not.toContain("token=abc");
    expect(err.url).not.toContain("pa55");
  });
});

describe("redactHeaders", () => {
  it("hides credentials and keeps the rest", () => {
    expect(
      redactHeaders({ Authorization: "Bearer x", accept: "a", location: "https://s3/x?X-Amz-Signature=s" }),
    ).toEqual({ Authorization: REDACTED, accept: "a", location: "https://s3/x?X-Amz-Signature=REDACTED" });
  });
});
