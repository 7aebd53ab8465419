import { describe, expect, it } from "vitest";
import { parseDistributionErrors, registryErrorFromResponse } from "./errors.js";

describe("registryErrorFromResponse", () => {
  const url = "https://r.example/v2/a/manifests/x";
  it.each([
    [404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', "MANIFEST_UNKNOWN", false],
    [
      404,
      '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:1"}]}',
      "BLOB_UNKNOWN",
      false,
    ],
    [
      404,
      '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}',
      "NAME_UNKNOWN",
      false,
    ],
    [401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', "UNAUTHORIZED", false],
    [
      403,
      '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
      "DENIED",
      false,
    ],
    [429, '{"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit"}]}', "TOOMANYREQUESTS", true],
    [405, '{"errors":[{"code":"UNSUPPORTED","message":"deletes disabled"}]}', "UNSUPPORTED", false],
    [400, '{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}', "DIGEST_INVALID", false],
    [404, "", "NOT_FOUND", false],
    [401, "", "UNAUTHORIZED", false],
    [503, "<html>bad gateway</html>", "SERVER_ERROR", true],
    [502, "", "SERVER_ERROR", true],
    [418, "teapot", "UNEXPECTED_STATUS", false],
    [400, '{"errors":[{"code":"SOMETHING_NEW","message":"x"}]}', "UNEXPECTED_STATUS", false],
  ])("%i %s → %s", (status, body, code, temporary) => {
    const err = registryErrorFromResponse({ status, method: "GET", url, body });
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(err.temporary).toBe(temporary);
    expect(err.method).toBe("GET");
    expect(err.message).toContain(`GET ${url}`);
  });

  it("keeps every error of the body, with detail", () => {
    const err = registryErrorFromResponse({
      status: 400,
      method: "PUT",
      url,
      body: '{"errors":[{"code":"MANIFEST_INVALID","message":"bad","detail":{"k":1}},{"code":"TAG_INVALID","message":"t"}]}',
    });
    expect(err.errors.map((e) => e.code)).toEqual(["MANIFEST_INVALID", "TAG_INVALID"]);
    expect(err.message).toContain('manifest_invalid: bad: {"k":1}');
    expect(err.message).toContain("tag_invalid: t");
  });

  it("ignores bodies that are not distribution errors", () => {
    expect(parseDistributionErrors("nope")).toEqual([]);
    expect(parseDistributionErrors('{"errors":"x"}')).toEqual([]);
    expect(parseDistributionErrors("[1]")).toEqual([]);
  });
});
