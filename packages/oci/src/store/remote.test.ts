import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canonicalJson } from "../canonical-json.js";
import { type Digest, digestOf } from "../digest.js";
import { isOciError } from "../errors.js";
import { MediaType } from "../media-types.js";
import type { ImageConfig, Manifest } from "../types.js";
import { ImageStore } from "./store.js";

describe("lazy layers in the store: recorded, fetched on demand, verified, forgotten with their image", () => {
  let dir: string;
  let store: ImageStore;
  const blob = Buffer.from("not really a layer, but bytes with a digest");
  const layer = { mediaType: MediaType.OciLayerGzip, digest: digestOf(blob), size: blob.length };
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [digestOf("diff")] },
  };
  const cfg = canonicalJson(config);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digestOf(cfg), size: cfg.length },
    layers: [layer],
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-remote-"));
    store = await ImageStore.open({ root: dir });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses an absent layer without a source; records one with it", async () => {
    await expect(store.addImage({ manifest, config: cfg, names: ["lazy:1"] })).rejects.toSatisfy((e) =>
      isOciError(e, "BLOB_NOT_FOUND"),
    );
    const img = await store.addImage({
      manifest,
      config: cfg,
      names: ["lazy:1"],
      remote: { registry: "r.example", repository: "base" },
    });
    expect(await store.remoteBlob(layer.digest)).toEqual({
      ...layer,
      registry: "r.example",
      repository: "base",
    });
    expect((await store.list())[0]?.size).toBe(blob.length);
    expect((await store.history("lazy:1"))[0]?.size).toBe(blob.length);
    expect(img.manifest.layers).toEqual([layer]);
  });

  it("fetches on open through the fetcher, verified; a wrong body keeps nothing and names the source", async () => {
    await store.addImage({
      manifest,
      config: cfg,
      names: ["lazy:1"],
      remote: { registry: "r.example", repository: "base" },
    });
    await expect(store.openBlob(layer)).rejects.toThrow("nothing can fetch it from r.example/base");
    store.fetchBlob = () => Readable.from([Buffer.from("tampered")]);
    await expect(store.openBlob(layer)).rejects.toThrow(`could not be fetched from r.example/base`);
    expect(await store.layout.hasBlob(layer.digest)).toBe(false);
    const asked: Digest[] = [];
    store.fetchBlob = (b) => {
      asked.push(b.digest);
      return Readable.from([blob]);
    };
    const chunks: Buffer[] = [];
    for await (const c of await store.openBlob(layer)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(blob)).toBe(true);
    await store.openBlob(layer).then((s) => s.destroy());
    expect(asked).toEqual([layer.digest]);
  });

  it("removing the image forgets the record", async () => {
    await store.addImage({
      manifest,
      config: cfg,
      names: ["lazy:1"],
      remote: { registry: "r.example", repository: "base" },
    });
    await store.remove("lazy:1");
    expect(await store.remoteBlob(layer.digest)).toBeUndefined();
  });
});
