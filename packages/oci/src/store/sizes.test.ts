import { randomBytes } from "node:crypto";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { digestHex, digestOf } from "../digest.js";
import type { LayerEntry } from "../layer/entry.js";
import { createLayer } from "../layer/writer.js";
import { MediaType } from "../media-types.js";
import type { Manifest } from "../types.js";
import { makeImage } from "./__fixtures__/images.js";
import { useTempStore } from "./__fixtures__/temp-store.js";
import { SIZES_DIR } from "./sizes.js";
import { ImageStore } from "./store.js";

const t = useTempStore();

const ENTRIES: LayerEntry[] = [
  { path: "d", type: "dir" },
  { path: "d/a", type: "file", content: "a".repeat(100_000) },
  { path: "d/h", type: "hardlink", linkname: "d/a" },
  { path: "d/l", type: "symlink", linkname: "target/path" },
  { path: "d/p", type: "fifo" },
];
/** DISK is docker's SIZE of ENTRIES: file bytes once (not the hardlink), the symlink target's length. */
const DISK = 100_011;

async function layer(entries: LayerEntry[], compression: "gzip" | "none" = "gzip") {
  const made = createLayer({ entries }, { compression });
  const chunks: Buffer[] = [];
  for await (const c of made.stream) chunks.push(c as Buffer);
  return { bytes: Buffer.concat(chunks), result: await made.result };
}

const sizeFile = (blob: Buffer) => join(t.root, SIZES_DIR, "sha256", digestHex(digestOf(blob)));

describe("unpacked sizes (docker's SIZE)", () => {
  it("ls, history and inspect count each layer's files (not tar headers, not gzip), measured as it is written and kept", async () => {
    const gz = await layer(ENTRIES);
    const plain = await layer([{ path: "b", type: "file", content: "b".repeat(30_000) }], "none");
    expect(gz.result.diskSize).toBe(DISK);
    const img = await makeImage(t.store, {
      names: ["app"],
      layers: [gz.bytes, plain.bytes],
      history: [
        { created_by: "ADD a" },
        { created_by: "ENV X=1", empty_layer: true },
        { created_by: "ADD b" },
      ],
    });
    expect(img.size).toBeLessThan(40_000);
    expect(await t.store.unpackedSize(img)).toBe(DISK + 30_000);
    expect((await t.store.inspect("app")).Size).toBe(DISK + 30_000);
    expect((await t.store.history("app")).map((r) => r.size)).toEqual([30_000, 0, DISK]);
    expect((await t.store.list())[0]?.size).toBe(DISK + 30_000);
    // Kept beside the blobs, so another process does not read the layer again.
    expect(await readFile(sizeFile(gz.bytes), "utf8")).toBe(`${DISK}\n`);
    await writeFile(sizeFile(gz.bytes), "7\n");
    const other = await ImageStore.open({ root: t.root });
    try {
      expect(await other.unpackedSize(img)).toBe(30_007);
    } finally {
      await other.close();
    }
  });

  it("uses a recorded size without reading the blob, reports it freed, and forgets it when the blob is collected", async () => {
    const gz = await layer(ENTRIES);
    const img = await makeImage(t.store, { names: ["app"], layers: [gz.bytes] });
    await t.store.recordLayerSize(img.manifest.layers[0]!.digest, 42);
    expect(await t.store.unpackedSize(img)).toBe(42);
    expect((await t.store.remove("app")).reclaimedBytes).toBe(42);
    await expect(readdir(join(t.root, SIZES_DIR, "sha256"))).resolves.toEqual([]);
  });

  it("several stores reading the recorded size agree, and it is one complete file", async () => {
    const gz = await layer(ENTRIES);
    const img = await makeImage(t.store, { names: ["app"], layers: [gz.bytes] });
    const others = await Promise.all([1, 2, 3].map(() => ImageStore.open({ root: t.root })));
    try {
      const sizes = await Promise.all(others.map((s) => s.unpackedSize(img)));
      expect(sizes).toEqual([DISK, DISK, DISK]);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
    expect(await readdir(join(t.root, SIZES_DIR, "sha256"))).toEqual([digestHex(digestOf(gz.bytes))]);
    expect(await readFile(sizeFile(gz.bytes), "utf8")).toBe(`${DISK}\n`);
  });

  it("a layer that is not a tar (an artifact) counts its blob size; an absent foreign layer its descriptor size", async () => {
    const blob = randomBytes(512);
    const w = await t.store.writeBlob(blob);
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
    const img = await t.store.addImage({ manifest, config: cfg, names: ["win"] });
    expect(await t.store.unpackedSize(img)).toBe(1512);
  });

  it("a layer streamed in (as pull and load write it) has its size recorded before anything lists it", async () => {
    const gz = await layer(ENTRIES);
    const chunks = [gz.bytes.subarray(0, 100), gz.bytes.subarray(100)];
    await t.store.writeBlob(Readable.from(chunks), { digest: digestOf(gz.bytes), size: gz.bytes.length });
    expect(await readFile(sizeFile(gz.bytes), "utf8")).toBe(`${DISK}\n`);
  });

  it("listing never reads a layer: one with no recorded size counts its blob size, and nothing is written", async () => {
    const gz = await layer(ENTRIES);
    const img = await makeImage(t.store, { names: ["app"], layers: [gz.bytes] });
    await rm(join(t.root, SIZES_DIR), { recursive: true });
    const other = await ImageStore.open({ root: t.root });
    try {
      expect(await other.unpackedSize(img)).toBe(gz.bytes.length);
      expect((await other.list())[0]?.size).toBe(gz.bytes.length);
      expect((await other.history("app"))[0]?.size).toBe(gz.bytes.length);
    } finally {
      await other.close();
    }
    await expect(readdir(join(t.root, SIZES_DIR))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a zstd layer this Node.js cannot inflate counts its blob size, and is not remembered", async () => {
    // zstd frame magic, then junk: Node 20 has no zstd; a newer Node fails to inflate it.
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(100)]);
    const img = await makeImage(t.store, { names: ["z"], layers: [zstd] });
    expect(await t.store.unpackedSize(img)).toBe(104);
    await expect(readdir(join(t.root, SIZES_DIR, "sha256"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
