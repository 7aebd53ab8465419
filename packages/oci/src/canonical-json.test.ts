import { describe, expect, it } from "vitest";
import { canonicalJson, canonicalJsonString } from "./canonical-json.js";
import { isOciError } from "./errors.js";

describe("canonicalJson", () => {
  it.each([
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ z: { y: 1, x: [3, { d: 1, c: 2 }] }, a: null }, '{"a":null,"z":{"x":[3,{"c":2,"d":1}],"y":1}}'],
    [{ a: undefined, b: "x" }, '{"b":"x"}'],
    [[1, undefined, "s"], '[1,null,"s"]'],
    ['line\nbreak "quoted" <&>', '"line\\nbreak \\"quoted\\" <&>"'],
    [
      { "os.version": "1", os: "linux", architecture: "amd64" },
      '{"architecture":"amd64","os":"linux","os.version":"1"}',
    ],
    [1.5, "1.5"],
    [true, "true"],
    [{}, "{}"],
    [[], "[]"],
  ])("encodes %j as %s", (value, expected) => {
    expect(canonicalJsonString(value)).toBe(expected);
    expect(JSON.parse(expected)).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it("sorts keys by code point, not UTF-16 unit (astral after U+FFFD)", () => {
    // "\u{1F600}" is a surrogate pair (0xD83D…) which UTF-16 order puts before U+FFFD.
    const s = canonicalJsonString({ "\u{1F600}": 1, "\uFFFD": 2, A: 3, a: 4 });
    expect(s).toBe('{"A":3,"a":4,"\uFFFD":2,"\u{1F600}":1}');
  });

  it("gives the same bytes whatever order keys were inserted in", () => {
    const a = canonicalJson({ schemaVersion: 2, config: { size: 1, digest: "d" }, layers: [] });
    const b = canonicalJson({ layers: [], config: { digest: "d", size: 1 }, schemaVersion: 2 });
    expect(Buffer.isBuffer(a)).toBe(true);
    expect(a.equals(b)).toBe(true);
  });

  it("encodes Dates through toJSON", () => {
    expect(canonicalJsonString({ t: new Date(0) })).toBe('{"t":"1970-01-01T00:00:00.000Z"}');
  });

  it.each([
    [{ a: Number.NaN }, "$.a"],
    [{ a: [1, Number.POSITIVE_INFINITY] }, "$.a[1]"],
    [{ a: 1n }, "$.a"],
    [{ f: () => 1 }, "$.f"],
  ])("rejects unencodable %s at %s", (value, where) => {
    try {
      canonicalJson(value);
      expect.unreachable();
    } catch (err) {
      expect(isOciError(err, "INVALID_JSON")).toBe(true);
      expect((err as Error).message).toContain(where);
    }
  });

  it("rejects cycles but allows shared (acyclic) references", () => {
    const shared = { x: 1 };
    expect(canonicalJsonString({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
  });
});
