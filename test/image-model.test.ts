import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  archiveImages,
  copyImage,
  type Image,
  ImageStore,
  layoutImage,
  layoutSink,
  parseReference,
  readArchive,
  storeImage,
  storeSink,
  tarEntries,
  writeArchive,
} from "@tsbuild/oci";
import {
  blobFetcher,
  RegistryClient,
  registrySink,
  resolveImage,
  StaticCredentials,
} from "@tsbuild/registry-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CountingProxy, startCountingProxy } from "./support/counting-proxy.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/** filesOf lists a layer's paths, read through its uncompressed stream. */
async function filesOf(image: Image, i: number): Promise<string[]> {
  const out: string[] = [];
  for await (const { info } of tarEntries(await image.layers[i]!.uncompressed())) out.push(info.name);
  return out;
}

/** same says two images are the same image: manifest bytes, config bytes, layer digests and diffIDs. */
function expectSame(a: Image, b: Image): void {
  expect(b.digest).toBe(a.digest);
  expect(b.rawManifest.equals(a.rawManifest)).toBe(true);
  expect(b.rawConfig.equals(a.rawConfig)).toBe(true);
  expect(b.layers.map((l) => [l.digest, l.diffId, l.size])).toEqual(
    a.layers.map((l) => [l.digest, l.diffId, l.size]),
  );
}

describe("the image model: one Image for the store, a layout, an archive, a registry; copyImage between them", () => {
  let registry: TestRegistry;
  let proxy: CountingProxy;
  let dir: string;
  let store: ImageStore;
  let client: RegistryClient;
  let src: Image;

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startCountingProxy(registry.url);
    dir = await mkdtemp(join(tmpdir(), "tsbuild-model-"));
    store = await ImageStore.open({ root: join(dir, "store") });
    client = new RegistryClient({ credentials: new StaticCredentials() });
    await makeTestImage(store, {
      layers: [
        fileLayer("etc", { "os-release": "ID=test\n" }),
        fileLayer("app", { "a.txt": "a", "b.txt": "b" }),
      ],
      names: ["model/src:1"],
    });
    src = await storeImage(store, "model/src:1");
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a store image gives its documents and layers, whose streams verify and unpack", async () => {
    expect(src.layers).toHaveLength(2);
    expect(src.configDigest).toBe((await store.resolve("model/src:1")).id);
    expect(await filesOf(src, 1)).toEqual(["app/", "app/a.txt", "app/b.txt"]);
  });

  it("store → OCI layout → docker archive → another store keep the image byte for byte", async () => {
    const layoutDir = join(dir, "layout");
    await copyImage(src, layoutSink(layoutDir, { name: "model/src:1" }));
    const fromLayout = await layoutImage(layoutDir, "model/src:1");
    expectSame(src, fromLayout);
    expect(await filesOf(fromLayout, 0)).toEqual(["etc/", "etc/os-release"]);

    const tar = join(dir, "image.tar");
    await writeArchive(tar, [{ image: fromLayout, names: ["model/src:1"] }]);
    const archive = await readArchive(tar);
    try {
      const [found] = archiveImages(archive);
      expect(found?.names).toEqual(["docker.io/model/src:1"]);
      expectSame(src, found!.image);
      const other = await ImageStore.open({ root: join(dir, "store2") });
      try {
        const stored = await copyImage(found!.image, storeSink(other, { names: found!.names }));
        expect(stored.manifestDigest).toBe(src.digest);
        expectSame(src, await storeImage(other, "model/src:1"));
      } finally {
        await other.close();
      }
    } finally {
      await archive.close();
    }
  });

  it("a registry image is lazy: resolving reads the manifest and config, a layer's bytes only when read", async () => {
    const ref = parseReference(`${proxy.host}/model/lazy:1`);
    const pushed = await copyImage(src, registrySink(client, ref));
    expect(pushed.digest).toBe(src.digest);
    expect(pushed.blobs.map((b) => b.status)).toEqual(["pushed", "pushed", "pushed"]);
    proxy.log.length = 0;
    const remote = await resolveImage(client, ref);
    expectSame(src, remote);
    // Only the config blob was read.
    expect(proxy.blobGets()).toEqual([`GET /v2/model/lazy/blobs/${src.configDigest}`]);
    expect(await filesOf(remote, 1)).toEqual(["app/", "app/a.txt", "app/b.txt"]);
    expect(proxy.blobGets()).toEqual([
      `GET /v2/model/lazy/blobs/${src.configDigest}`,
      `GET /v2/model/lazy/blobs/${src.layers[1]!.digest}`,
    ]);
  });

  it("registry → registry mounts within the registry; registry → store copies every layer, verified", async () => {
    const remote = await resolveImage(client, parseReference(`${proxy.host}/model/lazy:1`));
    proxy.log.length = 0;
    const mounted = await copyImage(
      remote,
      registrySink(client, parseReference(`${proxy.host}/model/other:1`)),
    );
    expect(mounted.blobs.map((b) => b.status)).toEqual(["mounted", "mounted", "pushed"]);
    expect(proxy.blobGets()).toEqual([]);
    const other = await ImageStore.open({ root: join(dir, "store3") });
    try {
      const stored = await copyImage(remote, storeSink(other, { names: ["model/copied:1"] }));
      expect(stored.manifestDigest).toBe(src.digest);
      for (const l of src.layers) expect(await other.layout.hasBlob(l.digest)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it("archive → registry streams the layers out of the archive, verified by the registry", async () => {
    const tar = join(dir, "image.tar");
    const archive = await readArchive(tar);
    try {
      const [found] = archiveImages(archive);
      const ref = parseReference(`${proxy.host}/model/from-archive:1`);
      const pushed = await copyImage(found!.image, registrySink(client, ref));
      expect(pushed.blobs.map((b) => b.status)).toEqual(["pushed", "pushed", "pushed"]);
      expectSame(src, await resolveImage(client, ref));
    } finally {
      await archive.close();
    }
  });

  it("registry → store lazily records the layers without reading them; the store fetches one when it is read", async () => {
    const remote = await resolveImage(client, parseReference(`${proxy.host}/model/lazy:1`));
    const lazy = await ImageStore.open({ root: join(dir, "store-lazy") });
    try {
      proxy.log.length = 0;
      const stored = await copyImage(remote, storeSink(lazy, { names: ["model/lazy:1"], lazy: true }));
      expect(proxy.blobGets()).toEqual([]);
      expect(stored.manifestDigest).toBe(src.digest);
      for (const l of src.layers) expect(await lazy.layout.hasBlob(l.digest)).toBe(false);
      // ls and inspect work; the size of an unread layer is its compressed size.
      const rows = await lazy.list();
      expect(rows.map((r) => r.name)).toEqual(["docker.io/model/lazy:1"]);
      expect(rows[0]?.size).toBe(src.layers.reduce((n, l) => n + l.size, 0));
      expect((await lazy.inspect("model/lazy:1")).Id).toBe(src.configDigest);
      const image = await storeImage(lazy, "model/lazy:1");
      expect(image.layers[0]?.source).toEqual({ registry: proxy.host, repository: "model/lazy" });
      // No fetcher: a clear error naming where the blob was to come from.
      await expect(filesOf(image, 0)).rejects.toThrow(`nothing can fetch it from ${proxy.host}/model/lazy`);
      lazy.fetchBlob = blobFetcher(client);
      expect(await filesOf(image, 0)).toEqual(["etc/", "etc/os-release"]);
      expect(proxy.blobGets()).toEqual([`GET /v2/model/lazy/blobs/${src.layers[0]!.digest}`]);
      expect(await lazy.layout.hasBlob(src.layers[0]!.digest)).toBe(true);
    } finally {
      await lazy.close();
    }
  });
});
