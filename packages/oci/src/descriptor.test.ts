import { describe, expect, it } from "vitest";
import { parseDescriptor } from "./descriptor.js";
import { OciError, type OciErrorCode } from "./errors.js";

const D = `sha256:${"a".repeat(64)}`;
const base = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: D, size: 3 };

describe("parseDescriptor", () => {
  it("returns the typed fields and drops unknown members", () => {
    const d = parseDescriptor({
      ...base,
      urls: ["https://example.com/x"],
      annotations: { "org.opencontainers.image.ref.name": "latest" },
      platform: { os: "linux", architecture: "amd64" },
      artifactType: "application/x",
      data: Buffer.from("abc").toString("base64"),
      unknown: 1,
    });
    expect(d).toEqual({
      ...base,
      urls: ["https://example.com/x"],
      annotations: { "org.opencontainers.image.ref.name": "latest" },
      platform: { os: "linux", architecture: "amd64" },
      artifactType: "application/x",
      data: "YWJj",
    });
  });

  it("accepts size 0 and large safe integers", () => {
    expect(parseDescriptor({ ...base, size: 0 }).size).toBe(0);
    expect(parseDescriptor({ ...base, size: 2 ** 40 }).size).toBe(2 ** 40);
  });

  const cases: [string, unknown, OciErrorCode, string][] = [
    ["not an object", [], "INVALID_DESCRIPTOR", "m.layers[2]: expected an object, got an array"],
    [
      "missing mediaType",
      { digest: D, size: 1 },
      "INVALID_DESCRIPTOR",
      "m.layers[2].mediaType: required field is missing",
    ],
    [
      "bad mediaType",
      { ...base, mediaType: "tar" },
      "INVALID_MEDIA_TYPE",
      'm.layers[2].mediaType: "tar" is not a media type',
    ],
    [
      "missing digest",
      { mediaType: base.mediaType, size: 1 },
      "INVALID_DIGEST",
      "m.layers[2].digest: required field is missing",
    ],
    [
      "bad digest",
      { ...base, digest: "sha256:XYZ" },
      "INVALID_DIGEST",
      "m.layers[2].digest: sha256 digest needs 64",
    ],
    ["md5 digest", { ...base, digest: "md5:abc" }, "INVALID_DIGEST", "m.layers[2].digest: unsupported"],
    [
      "missing size",
      { mediaType: base.mediaType, digest: D },
      "INVALID_DESCRIPTOR",
      "m.layers[2].size: required field is missing",
    ],
    [
      "negative size",
      { ...base, size: -1 },
      "INVALID_DESCRIPTOR",
      "m.layers[2].size: must be at least 0, got -1",
    ],
    [
      "fractional size",
      { ...base, size: 1.5 },
      "INVALID_DESCRIPTOR",
      "m.layers[2].size: expected an integer, got a number (1.5)",
    ],
    [
      "string size",
      { ...base, size: "3" },
      "INVALID_DESCRIPTOR",
      'm.layers[2].size: expected an integer, got a string ("3")',
    ],
    [
      "unsafe size",
      { ...base, size: 2 ** 60 },
      "INVALID_DESCRIPTOR",
      "m.layers[2].size: expected an integer",
    ],
    [
      "urls not strings",
      { ...base, urls: [1] },
      "INVALID_DESCRIPTOR",
      "m.layers[2].urls[0]: expected a string",
    ],
    [
      "annotation not string",
      { ...base, annotations: { a: 1 } },
      "INVALID_DESCRIPTOR",
      'm.layers[2].annotations["a"]: expected a string',
    ],
    [
      "bad platform",
      { ...base, platform: { os: "linux" } },
      "INVALID_DESCRIPTOR",
      "m.layers[2].platform.architecture: required",
    ],
    ["bad data", { ...base, data: "!!" }, "INVALID_DESCRIPTOR", "m.layers[2].data: expected base64"],
    [
      "data size mismatch",
      { ...base, data: "YQ==" },
      "INVALID_DESCRIPTOR",
      "embedded data is 1 bytes, size says 3",
    ],
  ];
  it.each(cases)("rejects %s", (_name, value, code, message) => {
    try {
      parseDescriptor(value, "m.layers[2]");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(OciError);
      expect((err as OciError).code).toBe(code);
      expect((err as OciError).message).toContain(message);
    }
  });
});
