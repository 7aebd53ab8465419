import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digestHex, digestOf } from "../digest.js";
import { MediaType } from "../media-types.js";
import type { Manifest } from "../types.js";
import { makeImage } from "./__fixtures__/images.js";
import { SIZES_DIR } from "./sizes.js";
import { ImageStore } from "./store.js";

let root: string;
let store: ImageStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "store-sizes-"));
  store = await ImageStore.open({ root });
});
afterEach(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

const sizeFile = (layer: string) => join(root, SIZES_DIR, "sha256", digestHex(digestOf(gzipSync(layer))));

describe("unpacked sizes (docker's SIZE)", () => {
  // Compressible layers: the gzip blob is much smaller than what it unpacks to.
  const big = "a".repeat(100_000);
  const small = "b".repeat(30_000);

  it("ls, history and inspect count each gzip layer's uncompressed bytes, counted once and kept", async () => {
    const img = await makeImage(store, {
      names: ["app"],
      layers: [gzipSync(big), gzipSync(small)],
      history: [
        { created_by: "ADD big" },
        { created_by: "ENV X=1", empty_layer: true },
        { created_by: "ADD small" },
      ],
    });
    expect(img.size).toBeLessThan(2_000);
    expect(await store.unpackedSize(img)).toBe(130_000);
    expect((await store.inspect("app")).Size).toBe(130_000);
    expect((await store.history("app")).map((r) => r.size)).toEqual([30_000, 0, 100_000]);
    expect((await store.list())[0]?.size).toBe(130_000);
    // Kept beside the blobs, so another process does not decompress again.
    expect(await readFile(sizeFile(big), "utf8")).toBe("100000\n");
    await writeFile(sizeFile(big), "7\n");
    const other = await ImageStore.open({ root });
    try {
      expect(await other.unpackedSize(img)).toBe(30_007);
    } finally {
      await other.close();
    }
  });

  it("uses a recorded size without reading the blob, and forgets it when the blob is collected", async () => {
    const img = await makeImage(store, { names: ["app"], layers: [gzipSync(big)] });
    await store.recordLayerSize(img.manifest.layers[0]!.digest, 42);
    expect(await store.unpackedSize(img)).toBe(42);
    await store.remove("app");
    await expect(readdir(join(root, SIZES_DIR, "sha256"))).resolves.toEqual([]);
  });

  it("concurrent stores computing the same layer agree and leave one complete file", async () => {
    const img = await makeImage(store, { names: ["app"], layers: [gzipSync(big)] });
    const others = await Promise.all([1, 2, 3].map(() => ImageStore.open({ root })));
    try {
      const sizes = await Promise.all(others.map((s) => s.unpackedSize(img)));
      expect(sizes).toEqual([100_000, 100_000, 100_000]);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
    expect(await readdir(join(root, SIZES_DIR, "sha256"))).toEqual([digestHex(digestOf(gzipSync(big)))]);
    expect(await readFile(sizeFile(big), "utf8")).toBe("100000\n");
  });

  it("an uncompressed layer is its own size; an absent foreign layer counts its descriptor size", async () => {
    const plain = randomBytes(512);
    const w = await store.writeBlob(plain);
    const cfg = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "windows",
        rootfs: { type: "layers", diff_ids: [digestOf("foreign"), w.digest] },
      }),
    );
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: digestOf(cfg), size: cfg.length },
      layers: [
        {
          mediaType: MediaType.DockerForeignLayerGzip,
          digest: digestOf("foreign"),
          size: 1000,
          urls: ["https://x/y"],
        },
        { mediaType: MediaType.OciLayer, digest: w.digest, size: w.size },
      ],
    };
    const img = await store.addImage({ manifest, config: cfg, names: ["win"] });
    expect(await store.unpackedSize(img)).toBe(1512);
  });
});
