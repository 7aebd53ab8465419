import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { digestHex, digestOf } from "../digest.js";
import { isOciError } from "../errors.js";
import { MediaType } from "../media-types.js";
import { hostPlatform } from "../platform.js";
import type { Descriptor, ImageConfig } from "../types.js";
import { useTempStore } from "./__fixtures__/temp-store.js";
import type { BlobLease } from "./lease.js";
import type { ImageStore } from "./store.js";

const t = useTempStore("store-multi-");

/** platformImage writes one platform's layer, config and manifest as blobs (no store entry of its own). */
async function platformImage(
  store: ImageStore,
  architecture: string,
  created: string,
  lease: BlobLease,
): Promise<Descriptor> {
  const layer = randomBytes(100);
  const l = await store.writeBlob(layer, undefined, { lease });
  const config: ImageConfig = {
    architecture,
    os: "linux",
    created,
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [digestOf(layer)] },
    history: [{ created_by: `COPY ${architecture}`, created }],
  };
  const c = await store.writeBlob(Buffer.from(JSON.stringify(config)), undefined, { lease });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, ...c },
      layers: [{ mediaType: MediaType.OciLayerGzip, ...l }],
    }),
  );
  const m = await store.writeBlob(manifest, undefined, { lease });
  return { mediaType: MediaType.OciManifest, ...m, platform: { os: "linux", architecture } };
}

/** multiPlatform adds an amd64 + arm64 image as a build does: blobs under a lease, released once named. */
async function multiPlatform(store: ImageStore, names: string[]): Promise<Descriptor> {
  const lease = await store.lease();
  try {
    const manifests = [
      await platformImage(store, "amd64", "2024-05-01T00:00:00Z", lease),
      await platformImage(store, "arm64", "2024-05-01T00:00:01Z", lease),
    ];
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
    return await store.addIndex({ index, names });
  } finally {
    await lease.release();
  }
}

/** The architecture the store stands a multi-platform image for on this host (arm64 here, else amd64). */
const hostArch = hostPlatform().architecture === "arm64" ? "arm64" : "amd64";

describe("a multi-platform image in the store", () => {
  it("resolves by name and by its index's id to the host platform's image, and lists as one row", async () => {
    const index = await multiPlatform(t.store, ["mp:1"]);
    const img = await t.store.resolve("mp:1");
    expect(img.index?.digest).toBe(index.digest);
    expect(img.config.architecture).toBe(hostArch);
    expect(img.names).toEqual(["docker.io/library/mp:1"]);
    expect((await t.store.resolve(digestHex(index.digest).slice(0, 12))).index?.digest).toBe(index.digest);

    const rows = await t.store.list();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: index.digest, name: "docker.io/library/mp:1", tag: "1" });
    const listed = await t.store.images({ multiPlatform: true });
    expect(listed.map((i) => i.index?.digest)).toEqual([index.digest]);
    expect(await t.store.images()).toEqual([]);

    const inspect = await t.store.inspect("mp:1");
    expect(inspect.Descriptor).toEqual({
      mediaType: MediaType.OciIndex,
      digest: index.digest,
      size: index.size,
    });
    expect(inspect.Architecture).toBe(hostArch);
    const history = await t.store.history("mp:1");
    expect(history.map((h) => h.createdBy)).toEqual([`COPY ${hostArch}`]);
  });

  it("is pruned once dangling, with its platforms' blobs", async () => {
    const first = await multiPlatform(t.store, ["mp:1"]);
    await t.store.tag("mp:1", "mp:keep");
    const second = await multiPlatform(t.store, ["mp:1"]);
    // The first is still named mp:keep: nothing to prune.
    expect((await t.store.prune()).deleted).toEqual([]);
    await t.store.untag("mp:keep");
    const pruned = await t.store.prune();
    expect(pruned.deleted).toEqual([first.digest]);
    expect(pruned.deletedLayers).toHaveLength(2);
    expect(await t.store.layout.hasBlob(first.digest)).toBe(false);
    expect((await t.store.resolve("mp:1")).index?.digest).toBe(second.digest);
  });

  it("is removed by its id, and then nothing of it is left", async () => {
    const index = await multiPlatform(t.store, ["mp:1", "other/mp:2"]);
    const platforms = await t.store.resolve("mp:1");
    await expect(t.store.remove(digestHex(index.digest).slice(0, 12))).rejects.toSatisfy((e) =>
      isOciError(e, "IMAGE_IN_USE"),
    );
    const r = await t.store.remove(digestHex(index.digest).slice(0, 12), { force: true });
    expect(r.deleted).toEqual([index.digest]);
    expect(await t.store.list()).toEqual([]);
    expect(await t.store.layout.hasBlob(platforms.manifestDigest)).toBe(false);
    await expect(t.store.resolve("mp:1")).rejects.toSatisfy((e) => isOciError(e, "IMAGE_NOT_FOUND"));
  });
});
