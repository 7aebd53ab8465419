import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../canonical-json.js";
import { digestOf } from "../digest.js";
import { MediaType } from "../media-types.js";
import { useTempStore } from "./__fixtures__/temp-store.js";
import { ImageStore } from "./store.js";

/**
 * A store edited by hand or by another tool can hold documents that do not
 * parse: reading them fails with the parser's code and says which store,
 * which document (manifest, or config of which manifest) and which field.
 */

const t = useTempStore();

/** addEntry writes a blob and names it in index.json behind the store's back. */
async function addEntry(manifest: Uint8Array, name: string): Promise<string> {
  const w = await t.store.writeBlob(manifest);
  const index = JSON.parse(await readFile(join(t.root, "index.json"), "utf8"));
  index.manifests.push({
    mediaType: MediaType.OciManifest,
    digest: w.digest,
    size: w.size,
    annotations: { "org.opencontainers.image.ref.name": name },
  });
  await writeFile(join(t.root, "index.json"), JSON.stringify(index));
  return w.digest;
}

describe("malformed documents in the store", () => {
  it("a manifest that is not JSON", async () => {
    const d = await addEntry(Buffer.from("{not json"), "docker.io/library/bad:latest");
    await expect(t.store.resolve("bad")).rejects.toMatchObject({
      code: "INVALID_JSON",
      message: expect.stringContaining(
        `${t.root}: index.json: manifest ${d}: manifest: manifest is not valid JSON`,
      ),
    });
  });

  it("a manifest with a negative layer size", async () => {
    const cfg = canonicalJson({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
    });
    await t.store.writeBlob(cfg);
    const manifest = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(cfg), size: cfg.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf("x"), size: -5 }],
    });
    const d = await addEntry(manifest, "docker.io/library/bad:latest");
    await expect(t.store.resolve("bad")).rejects.toMatchObject({
      code: "INVALID_MANIFEST",
      message: expect.stringMatching(
        new RegExp(`^${t.root}: index\\.json: manifest ${d}: .*layers\\[0\\]\\.size`),
      ),
    });
  });

  it("a config without os names the config and its manifest", async () => {
    const cfg = canonicalJson({ architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } });
    await t.store.writeBlob(cfg);
    const manifest = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(cfg), size: cfg.length },
      layers: [],
    });
    const d = await addEntry(manifest, "docker.io/library/bad:latest");
    await expect(t.store.inspect("bad")).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: expect.stringContaining(`${t.root}: config ${digestOf(cfg)} of manifest ${d}: config.os: `),
    });
  });
});

/** addImage writes a config and a layerless manifest for it and names it; returns the manifest and config digests. */
async function addImage(name: string, os: string): Promise<{ manifest: string; config: string }> {
  const cfg = canonicalJson({ architecture: "amd64", os, rootfs: { type: "layers", diff_ids: [] } });
  await t.store.writeBlob(cfg);
  const manifest = canonicalJson({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digestOf(cfg), size: cfg.length },
    layers: [],
  });
  return { manifest: await addEntry(manifest, name), config: digestOf(cfg) };
}

const blobPath = (root: string, d: string) => join(root, "blobs", "sha256", d.slice("sha256:".length));

describe("one unreadable image leaves the rest of the store usable", () => {
  const corruptions = [
    {
      name: "its manifest blob deleted",
      corrupt: (root: string, b: { manifest: string }) => rm(blobPath(root, b.manifest)),
    },
    {
      name: "its config blob edited (digest no longer matches)",
      corrupt: (root: string, b: { config: string }) =>
        writeFile(blobPath(root, b.config), '{"edited":true}'),
    },
  ];
  for (const c of corruptions) {
    it(`an image with ${c.name}`, async () => {
      const good = await addImage("docker.io/library/good:1", "linux");
      const bad = await addImage("docker.io/library/bad:1", "freebsd");
      await c.corrupt(t.root, bad);

      const unreadable: string[] = [];
      const images = await t.store.images({ onUnreadable: (u) => unreadable.push(...u.names) });
      expect(images.map((i) => i.names)).toEqual([["docker.io/library/good:1"]]);
      expect(unreadable).toEqual(["docker.io/library/bad:1"]);
      expect((await t.store.history("good:1")).length).toBeGreaterThanOrEqual(0);
      expect((await t.store.resolve(good.config.slice(7, 19))).id).toBe(good.config);
      await expect(t.store.inspect("bad:1")).rejects.toThrow(t.root);

      // prune -a deletes what it can read and keeps the unreadable image (it cannot tell what it holds).
      const pruned = await t.store.prune({ all: true });
      expect(pruned.deleted).toEqual([good.config]);
      const names = () => readFile(join(t.root, "index.json"), "utf8").then((s) => s);
      expect(await names()).toContain("docker.io/library/bad:1");

      // rm by name still removes it.
      const removed = await t.store.remove("bad:1");
      expect(removed.untagged).toEqual(["docker.io/library/bad:1"]);
      expect(await names()).not.toContain("docker.io/library/bad:1");
      expect(await t.store.images({ onUnreadable: () => expect.fail("nothing unreadable is left") })).toEqual(
        [],
      );
    });
  }
});

describe("a store whose index.json was deleted", () => {
  it("is reported on the next open, not recreated empty (which would let gc delete every blob)", async () => {
    const img = await addImage("docker.io/library/kept:1", "linux");
    await t.store.close();
    await rm(join(t.root, "index.json"));
    const reopened = await ImageStore.open({ root: t.root });
    try {
      await expect(reopened.images()).rejects.toMatchObject({
        code: "INVALID_LAYOUT",
        message: expect.stringContaining(`${join(t.root, "index.json")}: cannot read index.json`),
      });
      await expect(reopened.gc()).rejects.toMatchObject({ code: "INVALID_LAYOUT" });
      await expect(reopened.layout.hasBlob(img.manifest)).resolves.toBe(true);
      await expect(reopened.layout.hasBlob(img.config)).resolves.toBe(true);
    } finally {
      await reopened.close();
    }
  });

  it("a directory with neither file becomes a new store", async () => {
    const dir = join(t.root, "fresh");
    const fresh = await ImageStore.open({ root: dir });
    try {
      expect(await fresh.images()).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});
