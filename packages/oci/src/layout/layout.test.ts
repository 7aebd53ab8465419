import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canonicalJson } from "../canonical-json.js";
import { type Digest, digestOf } from "../digest.js";
import { isOciError } from "../errors.js";
import { MediaType } from "../media-types.js";
import { OciLayout } from "./layout.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "layout-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    expect(isOciError(err) ? err.code : err).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe("OciLayout.open", () => {
  it("creates oci-layout, index.json and blobs/sha256", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    expect(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    expect(await layout.readIndex()).toEqual({ schemaVersion: 2, manifests: [] });
    expect((await stat(join(dir, "blobs", "sha256"))).isDirectory()).toBe(true);
  });

  it("does not overwrite an existing index on create", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    const m = await layout.writeJson({ hello: 1 });
    await layout.writeIndex({ schemaVersion: 2, manifests: [{ mediaType: "application/json", ...m }] });
    const again = await OciLayout.open(dir, { create: true });
    expect((await again.readIndex()).manifests).toHaveLength(1);
  });

  it.each([
    ["missing oci-layout", null],
    ["bad JSON", "{"],
    ["bad version", '{"imageLayoutVersion":"2.0.0"}'],
  ])("rejects a directory with %s", async (_name, content) => {
    if (content !== null) await writeFile(join(dir, "oci-layout"), content);
    await expectCode(OciLayout.open(dir), "INVALID_LAYOUT");
  });

  it.each([
    ["not JSON", "nope"],
    ["wrong schemaVersion", '{"schemaVersion":1,"manifests":[]}'],
    ["bad digest", '{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"sha256:zz","size":1}]}'],
    [
      "negative size",
      `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"${digestOf("x")}","size":-1}]}`,
    ],
  ])("readIndex rejects index.json that is %s", async (_name, content) => {
    const layout = await OciLayout.open(dir, { create: true });
    await writeFile(join(dir, "index.json"), content);
    await expectCode(layout.readIndex(), "INVALID_LAYOUT");
  });
});

describe("OciLayout blobs", () => {
  const data = Buffer.from("hello blob");
  const digest = digestOf(data);

  it("writes from bytes, a Readable and an async iterable; reads and streams back", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    expect(await layout.writeBlob(data)).toEqual({ digest, size: data.length });
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 7);
    const r = await layout.writeBlob(Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
    expect(r).toEqual({ digest: digestOf(big), size: big.length });
    async function* gen() {
      yield Buffer.from("a");
      yield Buffer.from("b");
    }
    expect((await layout.writeBlob(gen(), { digest: digestOf("ab"), size: 2 })).digest).toBe(digestOf("ab"));
    expect(await layout.readBlob(digest)).toEqual(data);
    const streamed: Buffer[] = [];
    for await (const c of layout.openBlob(r.digest)) streamed.push(c as Buffer);
    expect(Buffer.concat(streamed).equals(big)).toBe(true);
    expect(await layout.hasBlob(digest)).toBe(true);
    expect(await layout.blobSize(r.digest)).toBe(big.length);
    expect(layout.blobPath(digest)).toBe(join(dir, "blobs", "sha256", digest.slice(7)));
    expect((await layout.listBlobs()).sort()).toEqual([digest, r.digest, digestOf("ab")].sort());
  });

  it.each([
    ["digest", { digest: digestOf("other"), size: data.length }, "DIGEST_MISMATCH"],
    ["size (short)", { digest, size: data.length + 1 }, "SIZE_MISMATCH"],
    ["size (long)", { digest, size: data.length - 1 }, "SIZE_MISMATCH"],
  ])("rejects a wrong %s and keeps nothing", async (_n, expected, code) => {
    const layout = await OciLayout.open(dir, { create: true });
    await expectCode(layout.writeBlob(Readable.from([data]), expected), code);
    expect(await layout.listBlobs()).toEqual([]);
    expect(await readdir(join(dir, ".tmp"))).toEqual([]);
  });

  it("does not rewrite a blob already present", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    await layout.writeBlob(data);
    const before = await stat(layout.blobPath(digest));
    let pulled = false;
    const src = new Readable({
      read() {
        pulled = true;
        this.push(null);
      },
    });
    expect(await layout.writeBlob(src, { digest, size: data.length })).toEqual({ digest, size: data.length });
    expect(pulled).toBe(false);
    expect((await stat(layout.blobPath(digest))).ino).toBe(before.ino);
  });

  it("honours an AbortSignal", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    const ac = new AbortController();
    async function* slow() {
      yield Buffer.from("a");
      ac.abort();
      yield Buffer.from("b");
    }
    await expect(layout.writeBlob(slow(), undefined, { signal: ac.signal })).rejects.toThrow();
    expect(await layout.listBlobs()).toEqual([]);
  });

  it("reports missing blobs as BLOB_NOT_FOUND and verifies on read", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    await expectCode(layout.readBlob(digest), "BLOB_NOT_FOUND");
    await expectCode(() => layout.openBlob(digest), "BLOB_NOT_FOUND");
    await expectCode(layout.blobSize(digest), "BLOB_NOT_FOUND");
    await expectCode(() => layout.blobPath("sha256:nothex"), "INVALID_DIGEST");
    await layout.writeBlob(data);
    await writeFile(layout.blobPath(digest), "tampered");
    await expectCode(layout.readBlob(digest), "DIGEST_MISMATCH");
  });

  it("writeJson stores canonical JSON", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    const r = await layout.writeJson({ b: 1, a: [true, null] });
    expect((await layout.readBlob(r.digest)).toString()).toBe('{"a":[true,null],"b":1}');
  });

  it("writes the index atomically, leaving no temp files", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    const m = await layout.writeJson({ x: 1 });
    const index = {
      schemaVersion: 2 as const,
      manifests: [{ mediaType: "application/json", ...m, annotations: { a: "b" } }],
    };
    await layout.writeIndex(index);
    expect(await layout.readIndex()).toEqual(index);
    expect((await readdir(dir)).sort()).toEqual([".tmp", "blobs", "index.json", "oci-layout"]);
  });
});

describe("OciLayout.gc", () => {
  async function image(layout: OciLayout, tag: string) {
    const layer = await layout.writeBlob(Buffer.from(`layer of ${tag}`));
    const config = await layout.writeJson({ architecture: "amd64", os: "linux", tag });
    const manifest = await layout.writeJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, ...config },
      layers: [{ mediaType: MediaType.OciLayerGzip, ...layer }],
    });
    return {
      layer: layer.digest,
      config: config.digest,
      manifest: { mediaType: MediaType.OciManifest, ...manifest },
    };
  }

  it("keeps what index.json reaches (through an index) and deletes the rest", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    const a = await image(layout, "a");
    const b = await image(layout, "b");
    const c = await image(layout, "c");
    const idx = await layout.writeJson({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [b.manifest],
    });
    await layout.writeIndex({
      schemaVersion: 2,
      manifests: [a.manifest, { mediaType: MediaType.OciIndex, ...idx }],
    });
    const stray = await layout.writeBlob(Buffer.from("stray"));
    const kept = await layout.writeBlob(Buffer.from("kept by caller"));
    const result = await layout.gc({ keep: [kept.digest] });
    expect(new Set(result.removed)).toEqual(
      new Set<Digest>([c.layer, c.config, c.manifest.digest, stray.digest]),
    );
    expect(result.reclaimedBytes).toBeGreaterThan(0);
    for (const d of [
      a.layer,
      a.config,
      a.manifest.digest,
      b.layer,
      b.config,
      b.manifest.digest,
      idx.digest,
      kept.digest,
    ])
      expect(await layout.hasBlob(d)).toBe(true);
  });

  it("spares young blobs with minAgeMs and removes dead processes' temp files", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    const stray = await layout.writeBlob(Buffer.from("stray"));
    // pid 2^22+1 is above Linux's pid_max default ceiling, so it is never alive.
    await writeFile(join(dir, ".tmp", "blob-4194305-0123456789ab"), "partial");
    await writeFile(join(dir, ".tmp", `blob-${process.pid}-0123456789ab`), "in progress");
    expect((await layout.gc({ minAgeMs: 60_000 })).removed).toEqual([]);
    expect(await layout.hasBlob(stray.digest)).toBe(true);
    expect(await readdir(join(dir, ".tmp"))).toEqual([`blob-${process.pid}-0123456789ab`]);
  });

  it("refuses to collect when a referenced manifest is corrupt", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    const bad = await layout.writeBlob(canonicalJson({ schemaVersion: 2, layers: "nope" }));
    await layout.writeIndex({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, ...bad }] });
    const stray = await layout.writeBlob(Buffer.from("stray"));
    await expectCode(layout.gc(), "INVALID_LAYOUT");
    expect(await layout.hasBlob(stray.digest)).toBe(true);
  });
});

describe("file-system errors", () => {
  it("a blob that cannot be read (a directory in its place) names the blob and the layout, not a bare EISDIR", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    const d = digestOf("x");
    await mkdir(layout.blobPath(d));
    await expect(layout.readBlob(d)).rejects.toMatchObject({
      code: "FILE_ERROR",
      message: `illegal operation on a directory while reading blob ${d} of ${dir}`,
    });
  });
});
