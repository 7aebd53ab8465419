import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chainIds, digestHex, digestOf } from "../digest.js";
import { isOciError } from "../errors.js";
import { MediaType } from "../media-types.js";
import { makeImage } from "./__fixtures__/images.js";
import { useTempStore } from "./__fixtures__/temp-store.js";
import { defaultStoreRoot } from "./root.js";
import { ImageStore } from "./store.js";

const t = useTempStore();

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(isOciError(err) ? err.code : err).toBe(code);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
}

async function indexJson(): Promise<{
  manifests: { digest: string; annotations?: Record<string, string> }[];
}> {
  return JSON.parse(await readFile(join(t.root, "index.json"), "utf8"));
}

describe("defaultStoreRoot", () => {
  it.each([
    [{ TSBUILD_ROOT: "/r", XDG_DATA_HOME: "/x", HOME: "/h" }, "/r"],
    [{ XDG_DATA_HOME: "/x", HOME: "/h" }, "/x/tsbuild"],
    [{ HOME: "/h" }, "/h/.local/share/tsbuild"],
    [{ TSBUILD_ROOT: "", XDG_DATA_HOME: "", HOME: "/h" }, "/h/.local/share/tsbuild"],
  ])("%j → %s", (env, want) => expect(defaultStoreRoot(env)).toBe(want));
});

describe("addImage and resolve", () => {
  it("records full names in index.json and resolves by every form docker accepts", async () => {
    const img = await makeImage(t.store, {
      names: ["custom-nginx:packaged", "localhost:5000/x", "me/app:1"],
    });
    const entries = (await indexJson()).manifests;
    expect(entries.map((e) => e.annotations?.["org.opencontainers.image.ref.name"])).toEqual([
      "docker.io/library/custom-nginx:packaged",
      "localhost:5000/x:latest",
      "docker.io/me/app:1",
    ]);
    expect(new Set(entries.map((e) => e.digest))).toEqual(new Set([img.manifestDigest]));
    const hex = digestHex(img.id);
    for (const q of [
      "custom-nginx:packaged",
      "docker.io/library/custom-nginx:packaged",
      "localhost:5000/x",
      "localhost:5000/x:latest",
      "me/app:1",
      img.id,
      hex,
      hex.slice(0, 12),
      hex.slice(0, 1),
      `sha256:${hex.slice(0, 5)}`,
      `custom-nginx@${img.manifestDigest}`,
      `custom-nginx:whatever@${img.manifestDigest}`,
    ]) {
      expect((await t.store.resolve(q)).id, q).toBe(img.id);
    }
    expect(img.names).toEqual([
      "docker.io/library/custom-nginx:packaged",
      "localhost:5000/x:latest",
      "docker.io/me/app:1",
    ]);
    expect(img.size).toBe(img.manifest.config.size + img.manifest.layers[0]!.size);
    expect(img.created).toBe("2024-01-02T03:04:05Z");
  });

  it("short name without tag means :latest", async () => {
    const img = await makeImage(t.store, { names: ["custom-nginx"] });
    expect((await t.store.resolve("custom-nginx")).id).toBe(img.id);
    expect((await t.store.resolve("docker.io/library/custom-nginx:latest")).id).toBe(img.id);
    await expectCode(
      t.store.resolve("custom-nginx:packaged"),
      "IMAGE_NOT_FOUND",
      /No such image: custom-nginx:packaged/,
    );
  });

  it("reports unknown names, unknown ids, invalid names and ambiguous id prefixes", async () => {
    const ids = new Map<string, number>();
    let shared = "";
    while (shared === "") {
      const img = await makeImage(t.store);
      const c = digestHex(img.id)[0]!;
      ids.set(c, (ids.get(c) ?? 0) + 1);
      if (ids.get(c) === 2) shared = c;
    }
    await expectCode(t.store.resolve(shared), "AMBIGUOUS_REFERENCE");
    await expectCode(t.store.resolve("nope"), "IMAGE_NOT_FOUND");
    await expectCode(t.store.resolve("f".repeat(64)), "IMAGE_NOT_FOUND");
    await expectCode(t.store.resolve("Bad/Name:x y"), "INVALID_REFERENCE");
  });

  it("keeps a dangling image as an entry without a name", async () => {
    const img = await makeImage(t.store);
    const entries = (await indexJson()).manifests;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.annotations).toBeUndefined();
    expect((await t.store.resolve(img.id)).names).toEqual([]);
  });

  it("refuses an image whose layers are not in the store, leaving the index untouched", async () => {
    const ghost = { mediaType: MediaType.OciLayerGzip, digest: digestOf("ghost"), size: 5 };
    const config = Buffer.from(
      JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
    );
    await expectCode(
      t.store.addImage({
        manifest: {
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
          layers: [ghost],
        },
        config,
        names: ["x"],
      }),
      "BLOB_NOT_FOUND",
    );
    expect((await indexJson()).manifests).toEqual([]);
  });

  it("rejects a config that does not match the manifest", async () => {
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    await expectCode(
      t.store.addImage({
        manifest: {
          schemaVersion: 2,
          config: { mediaType: MediaType.OciConfig, digest: digestOf("other"), size: config.length },
          layers: [],
        },
        config,
      }),
      "DIGEST_MISMATCH",
    );
  });

  it("rejects a digest as a tag name", async () => {
    await expectCode(makeImage(t.store, { names: [`x@${digestOf("a")}`] }), "INVALID_REFERENCE");
  });
});

describe("tag and untag", () => {
  it("moves a name from one image to another; the old one becomes dangling", async () => {
    const a = await makeImage(t.store, { names: ["app:1"] });
    const b = await makeImage(t.store);
    await t.store.tag(b.id, "app:1");
    expect((await t.store.resolve("app:1")).id).toBe(b.id);
    expect((await t.store.resolve(a.id)).names).toEqual([]);
    await t.store.tag("app:1", "localhost:5055/a/b:c");
    expect((await t.store.resolve("127.0.0.1:5055/a/b:c".replace("127.0.0.1", "localhost"))).id).toBe(b.id);
    await t.store.untag("app:1");
    await expectCode(t.store.resolve("app:1"), "IMAGE_NOT_FOUND");
    expect((await t.store.resolve(b.id)).names).toEqual(["localhost:5055/a/b:c"]);
    await expectCode(t.store.untag("app:1"), "IMAGE_NOT_FOUND");
    await expectCode(t.store.tag("nope", "x"), "IMAGE_NOT_FOUND");
  });
});

describe("remove", () => {
  it("by name with other names only untags", async () => {
    const img = await makeImage(t.store, { names: ["a:1", "a:2"] });
    const r = await t.store.remove("a:1");
    expect(r).toEqual({
      untagged: ["docker.io/library/a:1"],
      deleted: [],
      deletedLayers: [],
      reclaimedBytes: 0,
    });
    expect((await t.store.resolve(img.id)).names).toEqual(["docker.io/library/a:2"]);
  });

  it("by its last name deletes the image and collects its blobs", async () => {
    const keep = await makeImage(t.store, { names: ["keep"], layers: ["shared", "k"] });
    const img = await makeImage(t.store, { names: ["a:1"], layers: ["shared", "mine"] });
    const r = await t.store.remove("a:1");
    expect(r.untagged).toEqual(["docker.io/library/a:1"]);
    expect(r.deleted).toEqual([img.id]);
    // Only the layer no other image uses goes; docker names it by chain ID.
    expect(r.deletedLayers).toEqual([chainIds(img.config.rootfs.diff_ids)[1]]);
    // docker counts the freed layers' SIZE only ("mine" is no tar: its blob size stands in).
    expect(r.reclaimedBytes).toBe(img.manifest.layers[1]!.size);
    expect(await t.store.layout.hasBlob(digestOf("mine"))).toBe(false);
    expect(await t.store.layout.hasBlob(img.manifestDigest)).toBe(false);
    expect(await t.store.layout.hasBlob(digestOf("shared"))).toBe(true);
    expect((await t.store.resolve("keep")).id).toBe(keep.id);
  });

  it("by id refuses an image in several repositories unless forced", async () => {
    const img = await makeImage(t.store, { names: ["a:1", "b:1"] });
    await expectCode(
      t.store.remove(digestHex(img.id).slice(0, 12)),
      "IMAGE_IN_USE",
      new RegExp(
        `conflict: unable to delete ${digestHex(img.id).slice(0, 12)} \\(must be forced\\) - image is referenced in multiple repositories`,
      ),
    );
    const r = await t.store.remove(img.id, { force: true });
    expect(r.untagged.sort()).toEqual(["docker.io/library/a:1", "docker.io/library/b:1"]);
    expect(r.deleted).toEqual([img.id]);
    expect((await indexJson()).manifests).toEqual([]);
  });

  it("by id deletes an image whose names are all in one repository", async () => {
    const img = await makeImage(t.store, { names: ["a:1", "a:2"] });
    expect((await t.store.remove(img.id)).deleted).toEqual([img.id]);
  });

  it("refuses an image with child images unless forced; removing the child prunes an untagged parent", async () => {
    const parent = await makeImage(t.store, { names: ["base"] });
    const child = await makeImage(t.store, { names: ["child"], parent: parent.id });
    await expectCode(t.store.remove(parent.id), "IMAGE_IN_USE", /image has dependent child images/);
    // By name: untag only, the parent stays for its child.
    expect(await t.store.remove("base")).toMatchObject({
      untagged: ["docker.io/library/base:latest"],
      deleted: [],
    });
    expect((await t.store.list()).map((r) => r.name)).toEqual(["docker.io/library/child:latest"]);
    const r = await t.store.remove("child");
    expect(r.deleted).toEqual([child.id, parent.id]);
    expect((await indexJson()).manifests).toEqual([]);
    expect(await t.store.layout.listBlobs()).toEqual([]);
  });

  it("force-removes a parent with children", async () => {
    const parent = await makeImage(t.store, { names: ["base"] });
    await makeImage(t.store, { names: ["child"], parent: parent.id });
    expect((await t.store.remove(parent.id, { force: true })).deleted).toEqual([parent.id]);
    expect((await t.store.resolve("child")).parent).toBe(parent.id);
  });

  it("unknown image → IMAGE_NOT_FOUND", async () => {
    await expectCode(t.store.remove("nope"), "IMAGE_NOT_FOUND");
  });
});

describe("list and prune", () => {
  it("lists one row per name plus dangling images without children", async () => {
    const base = await makeImage(t.store);
    const child = await makeImage(t.store, { names: ["app:1", "localhost:5000/app"], parent: base.id });
    const dangling = await makeImage(t.store);
    const rows = await t.store.list();
    expect(rows.map((r) => [r.id, r.repository, r.tag])).toEqual([
      [child.id, "app", "1"],
      [child.id, "localhost:5000/app", "latest"],
      [dangling.id, undefined, undefined],
    ]);
    const old = await makeImage(t.store, { names: ["old"], created: "2020-01-01T00:00:00Z" });
    const newest = await makeImage(t.store, { names: ["new"], created: "2030-01-01T00:00:00Z" });
    const sorted = (await t.store.list()).map((r) => r.id);
    expect(sorted[0]).toBe(newest.id);
    expect(sorted.at(-1)).toBe(old.id);
    expect(rows[0]).toMatchObject({
      size: 64, // the layer's bytes (not compressed), without the config
      created: "2024-01-02T03:04:05Z",
      manifestDigest: child.manifestDigest,
    });
  });

  it("prune removes dangling images (and parents that become dangling), prune all removes everything", async () => {
    const base = await makeImage(t.store);
    const mid = await makeImage(t.store, { parent: base.id });
    const tagged = await makeImage(t.store, { names: ["t"] });
    const r = await t.store.prune();
    expect(new Set(r.deleted)).toEqual(new Set([mid.id, base.id]));
    expect(r.untagged).toEqual([]);
    expect(r.reclaimedBytes).toBe(mid.manifest.layers[0]!.size + base.manifest.layers[0]!.size);
    expect((await t.store.list()).map((x) => x.id)).toEqual([tagged.id]);
    expect((await t.store.prune()).deleted).toEqual([]);
    const all = await t.store.prune({ all: true });
    expect(all).toMatchObject({ untagged: ["docker.io/library/t:latest"], deleted: [tagged.id] });
    expect(await t.store.layout.listBlobs()).toEqual([]);
  });

  it("a blob written but not yet added survives a concurrent prune (lease)", async () => {
    const other = await ImageStore.open({ root: t.root });
    try {
      const w = await other.writeBlob(Buffer.from("pending layer"));
      await makeImage(t.store);
      await t.store.prune();
      expect(await t.store.layout.hasBlob(w.digest)).toBe(true);
      await other.close();
      await makeImage(t.store);
      await t.store.prune();
      expect(await t.store.layout.hasBlob(w.digest)).toBe(false);
    } finally {
      await other.close();
    }
  });
});

describe("discardBlobs and gc", () => {
  it("discards only blobs that no image uses and no other process leased", async () => {
    const img = await makeImage(t.store, { names: ["app"], layers: ["used"] });
    const junk = await t.store.writeBlob(Buffer.from("junk"));
    const other = await ImageStore.open({ root: t.root });
    const theirs = await other.writeBlob(Buffer.from("theirs"));
    const ours = await t.store.writeBlob(Buffer.from("theirs"));
    expect(ours.digest).toBe(theirs.digest);
    const removed = await t.store.discardBlobs([
      junk.digest,
      digestOf("used"),
      theirs.digest,
      digestOf("never written"),
    ]);
    expect(removed).toEqual([junk.digest]);
    expect(await t.store.layout.hasBlob(digestOf("used"))).toBe(true);
    expect(await t.store.layout.hasBlob(theirs.digest)).toBe(true);
    await other.close();
    const gc = await t.store.gc();
    expect(gc.removed).toEqual([theirs.digest]);
    expect(gc.reclaimedBytes).toBe(6);
    expect((await t.store.resolve("app")).id).toBe(img.id);
  });
});

describe("lease", () => {
  it("keeps a blob found present, until the lease ends, from another store's gc", async () => {
    const writer = await ImageStore.open({ root: t.root });
    const blob = await writer.writeBlob(Buffer.from("present already"));
    await writer.close();
    const lease = await t.store.lease([blob.digest]);
    const collector = await ImageStore.open({ root: t.root });
    expect((await collector.gc()).removed).toEqual([]);
    expect(await collector.layout.hasBlob(blob.digest)).toBe(true);
    await lease.release();
    expect((await collector.gc()).removed).toEqual([blob.digest]);
    await collector.close();
  });
});

describe("foreign entries", () => {
  it("keeps index.json entries that are not images (an index of no image manifest) out of list, resolve-by-id and prune", async () => {
    const img = await makeImage(t.store, { names: ["app"] });
    const idx = await t.store.layout.writeJson({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [],
    });
    const index = await t.store.layout.readIndex();
    await t.store.layout.writeIndex({
      ...index,
      manifests: [
        ...index.manifests,
        {
          mediaType: MediaType.OciIndex,
          ...idx,
          annotations: { "org.opencontainers.image.ref.name": "docker.io/library/multi:latest" },
        },
      ],
    });
    expect((await t.store.list()).map((r) => r.name)).toEqual(["docker.io/library/app:latest"]);
    expect((await t.store.resolve(digestHex(img.id).slice(0, 4))).id).toBe(img.id);
    await t.store.prune({ all: true });
    expect((await t.store.layout.readIndex()).manifests.map((m) => m.digest)).toEqual([idx.digest]);
    expect(await t.store.layout.hasBlob(idx.digest)).toBe(true);
    await expectCode(t.store.resolve("multi"), "UNSUPPORTED_MEDIA_TYPE");
  });
});

describe("history and inspect", () => {
  const history = [
    { created: "2024-01-01T00:00:00Z", created_by: "ADD rootfs /" },
    { created: "2024-01-01T00:00:01Z", created_by: "ENV A=1", empty_layer: true },
    { created: "2024-01-01T00:00:02Z", created_by: "RUN make", comment: "buildkit" },
  ];

  it("joins history with layer sizes, newest first, with ancestor ids", async () => {
    const base = await makeImage(t.store, { layers: ["base layer"], history: history.slice(0, 1) });
    const img = await makeImage(t.store, {
      names: ["app"],
      layers: ["base layer", "second layer!"],
      history,
      parent: base.id,
    });
    const rows = await t.store.history("app");
    expect(rows).toEqual([
      {
        id: img.id,
        created: "2024-01-01T00:00:02Z",
        createdBy: "RUN make",
        size: img.manifest.layers[1]!.size,
        comment: "buildkit",
        emptyLayer: false,
        author: undefined,
      },
      {
        id: "<missing>",
        created: "2024-01-01T00:00:01Z",
        createdBy: "ENV A=1",
        size: 0,
        comment: "",
        emptyLayer: true,
        author: undefined,
      },
      {
        id: base.id,
        created: "2024-01-01T00:00:00Z",
        createdBy: "ADD rootfs /",
        size: img.manifest.layers[0]!.size,
        comment: "",
        emptyLayer: false,
        author: undefined,
      },
    ]);
  });

  it("inspect looks like docker's", async () => {
    const img = await makeImage(t.store, { names: ["app:1", "me/app:2"], extra: { repoDigests: true } });
    const out = await t.store.inspect("app:1");
    expect(out).toMatchObject({
      Id: img.id,
      RepoTags: ["app:1", "me/app:2"],
      RepoDigests: [`app@${img.manifestDigest}`, `me/app@${img.manifestDigest}`],
      Parent: "",
      Created: "2024-01-02T03:04:05Z",
      Architecture: "amd64",
      Os: "linux",
      Size: 64, // docker's Size: the unpacked layers, no config
      Config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
      RootFS: { Type: "layers", Layers: img.config.rootfs.diff_ids },
      Descriptor: { mediaType: MediaType.OciManifest, digest: img.manifestDigest, size: img.descriptor.size },
    });
    expect(out.Metadata.LastTagTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await t.store.inspect(img.id)).RepoTags).toEqual(["app:1", "me/app:2"]);
  });
});
