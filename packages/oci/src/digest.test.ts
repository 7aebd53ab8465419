import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  chainIds,
  type Digest,
  digestAlgorithm,
  digestHex,
  digestOf,
  digestOfStream,
  isDigest,
  parseDigest,
  verifyDigest,
} from "./digest.js";
import { isOciError } from "./errors.js";

const EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const EMPTY_SHA512 =
  "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

describe("parseDigest", () => {
  it.each([EMPTY_SHA256, EMPTY_SHA512])("accepts %s", (d) => {
    expect(parseDigest(d)).toBe(d);
    expect(isDigest(d)).toBe(true);
  });

  it.each([
    ["uppercase hex", EMPTY_SHA256.toUpperCase().replace("SHA256", "sha256"), /lowercase hex/],
    ["too short", EMPTY_SHA256.slice(0, -1), /64 lowercase hex/],
    ["too long", `${EMPTY_SHA256}0`, /64 lowercase hex/],
    ["sha512 length for sha256", `sha256:${"a".repeat(128)}`, /64 lowercase hex/],
    ["no algorithm", EMPTY_SHA256.slice(7), /algorithm/],
    ["unknown algorithm", `md5:${"a".repeat(32)}`, /algorithm/],
    ["empty", "", /algorithm/],
    ["non-hex", `sha256:${"g".repeat(64)}`, /hex/],
  ])("rejects %s with INVALID_DIGEST saying where", (_name, input, message) => {
    let caught: unknown;
    try {
      parseDigest(input, "manifest.layers[2].digest");
    } catch (err) {
      caught = err;
    }
    expect(isOciError(caught, "INVALID_DIGEST")).toBe(true);
    expect((caught as Error).message).toMatch(/^manifest\.layers\[2\]\.digest: /);
    expect((caught as Error).message).toMatch(message);
    expect(isDigest(input)).toBe(false);
  });

  it("rejects a non-string", () => {
    expect(() => parseDigest(42, "config.digest")).toThrow(
      /config\.digest: digest must be a string, got number/,
    );
  });

  it("splits algorithm and hex", () => {
    const d = parseDigest(EMPTY_SHA512);
    expect([digestAlgorithm(d), digestHex(d)]).toEqual(["sha512", EMPTY_SHA512.slice(7)]);
  });
});

describe("computing digests", () => {
  it("from bytes and strings (UTF-8)", () => {
    expect(digestOf("")).toBe(EMPTY_SHA256);
    expect(digestOf(new Uint8Array())).toBe(EMPTY_SHA256);
    expect(digestOf("", "sha512")).toBe(EMPTY_SHA512);
    expect(digestOf("é")).toBe(digestOf(Buffer.from([0xc3, 0xa9])));
  });

  it("from streams: digestOfStream agrees with digestOf", async () => {
    const chunks = [Buffer.from("hello "), Buffer.from("world"), Buffer.alloc(100_000, 7)];
    const whole = Buffer.concat(chunks);
    expect(await digestOfStream(Readable.from(chunks))).toEqual({
      digest: digestOf(whole),
      size: whole.length,
    });
  });

  it("verifyDigest reports a different digest or size", () => {
    const d = digestOf("x");
    expect(() => verifyDigest({ digest: d, size: 1 }, { digest: d, size: 1 })).not.toThrow();
    expect(() => verifyDigest({ digest: d }, { digest: EMPTY_SHA256 as Digest, size: 0 })).toThrow(
      expect.objectContaining({ code: "DIGEST_MISMATCH" }),
    );
    expect(() => verifyDigest({ digest: d, size: 2 }, { digest: d, size: 1 })).toThrow(
      expect.objectContaining({ code: "SIZE_MISMATCH" }),
    );
  });
});

describe("chainIds", () => {
  it("match the layer IDs docker 20.10 prints when it deletes them", () => {
    // diff_ids of an image built by docker 20.10 (FROM an import; COPY, RUN, WORKDIR); docker's
    // `rmi` printed the chain IDs of the last three layers.
    const diffIds = [
      "sha256:eda42d2e260bc7734dc89b82849ae9d0054bf271f1f2ebdf410abbb357e7b506",
      "sha256:213b70885ef0e854b96a63eeaf0d7c592d174e97eed346c23eb8c88b00b88c28",
      "sha256:78265f5593eed518058360e05145ab12cadbc9a9c3100a68e3463c6cb4759675",
      "sha256:2fd8fa0ce961d35d61d763f6cadc2160331d0fea3b909802b29e63bdf71b386c",
    ] as Digest[];
    expect(chainIds(diffIds)).toEqual([
      diffIds[0],
      "sha256:c424d160789ceabc33aade9221217ffe5344cf9ece5617cbafbc3bf263233484",
      "sha256:9cce4abf424b7f2f8cd57ee5ceacd2a58066bd9b029b48e3afc7f4be9bb24031",
      "sha256:8a15f81601230cdd41646c77fa82d222f3eb73a1c616d9ebc0449f3d95d937c9",
    ]);
    expect(chainIds([])).toEqual([]);
  });
});
