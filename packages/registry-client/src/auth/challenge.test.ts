import { describe, expect, it } from "vitest";
import { type Challenge, parseChallenges, pickChallenge } from "./challenge.js";

describe("parseChallenges", () => {
  const cases: [string, string | string[], Challenge[]][] = [
    [
      "docker hub bearer",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:library/nginx:pull",
          },
        },
      ],
    ],
    [
      "comma inside a quoted scope",
      'Bearer realm="https://r/token", service="r", scope="repository:a/b:pull,push"',
      [
        {
          scheme: "bearer",
          params: { realm: "https://r/token", service: "r", scope: "repository:a/b:pull,push" },
        },
      ],
    ],
    ["basic", 'Basic realm="Registry Realm"', [{ scheme: "basic", params: { realm: "Registry Realm" } }]],
    ["case-insensitive scheme and names", 'BEARER Realm="x"', [{ scheme: "bearer", params: { realm: "x" } }]],
    [
      "escapes in quoted strings",
      'Bearer realm="a\\"b\\\\c",error="insufficient_scope"',
      [{ scheme: "bearer", params: { realm: 'a"b\\c', error: "insufficient_scope" } }],
    ],
    [
      "unquoted values",
      "Bearer realm=https://x/token,service=x",
      [{ scheme: "bearer", params: { realm: "https://x/token", service: "x" } }],
    ],
    [
      "two challenges in one header",
      'Basic realm="b", Bearer realm="https://t",service="s"',
      [
        { scheme: "basic", params: { realm: "b" } },
        { scheme: "bearer", params: { realm: "https://t", service: "s" } },
      ],
    ],
    [
      "repeated headers",
      ['Basic realm="b"', 'Bearer realm="t"'],
      [
        { scheme: "basic", params: { realm: "b" } },
        { scheme: "bearer", params: { realm: "t" } },
      ],
    ],
    ["token68", "Negotiate abc+/def==", [{ scheme: "negotiate", params: {}, token68: "abc+/def==" }]],
    ["scheme only", "Basic", [{ scheme: "basic", params: {} }]],
    [
      "whitespace around =",
      'Bearer realm = "x" , service= y',
      [{ scheme: "bearer", params: { realm: "x", service: "y" } }],
    ],
    ["empty", "", []],
    ["unterminated quote", 'Bearer realm="x', [{ scheme: "bearer", params: { realm: "x" } }]],
  ];
  it.each(cases)("%s", (_name, header, want) => {
    expect(parseChallenges(header)).toEqual(want);
  });

  it("prefers Bearer over Basic", () => {
    expect(pickChallenge(parseChallenges('Basic realm="b", Bearer realm="t"'))?.scheme).toBe("bearer");
    expect(pickChallenge(parseChallenges('Digest realm="d"'))).toBeUndefined();
  });
});
