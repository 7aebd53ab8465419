import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  canonicalJson,
  copyImage,
  type Digest,
  digestOf,
  type Image,
  ImageStore,
  isOciError,
  MediaType,
  mutateConfig,
  parseReference,
  storeImage,
} from "@tsbuild/oci";
import {
  blobSize,
  copy,
  headManifest,
  putManifest,
  RegistryClient,
  registrySink,
  resolveImage,
  StaticCredentials,
} from "@tsbuild/registry-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CountingProxy, startCountingProxy } from "./support/counting-proxy.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/**
 * copy(src, dst) between repositories of one registry (mounts: no blob
 * crosses the client) and between two registries (streamed, verified), with
 * a multi-platform index, and from a source that lies.
 */
describe("registry-client copy: registry to registry", () => {
  let dir: string;
  let store: ImageStore;
  let a: TestRegistry;
  let b: TestRegistry;
  let proxy: CountingProxy;
  let client: RegistryClient;
  let amd: Image;
  let arm: Image;
  let indexDigest: Digest;
  let indexBytes: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-copy-"));
    store = await ImageStore.open({ root: join(dir, "store") });
    [a, b] = await Promise.all([startRegistry(), startRegistry()]);
    proxy = await startCountingProxy(a.url);
    client = new RegistryClient({ credentials: new StaticCredentials() });
    await makeTestImage(store, {
      layers: [fileLayer("etc", { "os-release": "ID=amd\n" }), fileLayer("app", { a: "a" })],
      names: ["copy/amd:1"],
    });
    await makeTestImage(store, {
      layers: [fileLayer("etc", { "os-release": "ID=arm\n" }), fileLayer("app", { a: "a" })],
      names: ["copy/arm:1"],
    });
    amd = mutateConfig(await storeImage(store, "copy/amd:1"), (c) => ({
      ...c,
      os: "linux",
      architecture: "amd64",
    }));
    arm = mutateConfig(await storeImage(store, "copy/arm:1"), (c) => ({
      ...c,
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    }));
    for (const img of [amd, arm])
      await copyImage(img, registrySink(client, parseReference(`${proxy.host}/copy/multi@${img.digest}`)));
    indexBytes = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        {
          mediaType: amd.mediaType,
          digest: amd.digest,
          size: amd.rawManifest.length,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          mediaType: arm.mediaType,
          digest: arm.digest,
          size: arm.rawManifest.length,
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        },
      ],
    });
    indexDigest = await putManifest(
      client,
      { registry: proxy.host, repository: "copy/multi", reference: "1" },
      { bytes: indexBytes, mediaType: MediaType.OciIndex },
    );
    expect(indexDigest).toBe(digestOf(indexBytes));
    await copyImage(amd, registrySink(client, parseReference(`${proxy.host}/copy/single:1`)));
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const blobsOf = (img: Image) => [img.configDigest, ...img.layers.map((l) => l.digest)];

  it("within one registry every blob is mounted: no blob is read or uploaded, and the index keeps its digest", async () => {
    proxy.log.length = 0;
    const result = await copy(client, `${proxy.host}/copy/multi:1`, `${proxy.host}/copy/mounted:1`);
    expect(result.digest).toBe(indexDigest);
    expect(result.mediaType).toBe(MediaType.OciIndex);
    expect(result.manifests).toBe(3);
    // The app layer is the same in both images: copied once.
    const unique = [...new Set([...blobsOf(amd), ...blobsOf(arm)])];
    expect(result.blobs.map((x) => x.digest).sort()).toEqual([...unique].sort());
    expect(new Set(result.blobs.map((x) => x.status))).toEqual(new Set(["mounted"]));
    expect(proxy.blobGets()).toEqual([]);
    const mounts = proxy.log.filter((l) => l.startsWith("POST ") && l.includes("mount="));
    expect(mounts).toHaveLength(unique.length);
    for (const m of mounts) expect(m).toContain("from=copy%2Fmulti");
    expect(proxy.log.filter((l) => l.startsWith("PUT /v2/copy/mounted/blobs/"))).toEqual([]);
    expect(proxy.log.filter((l) => l.startsWith("PUT /v2/copy/mounted/manifests/"))).toEqual([
      `PUT /v2/copy/mounted/manifests/${amd.digest}`,
      `PUT /v2/copy/mounted/manifests/${arm.digest}`,
      "PUT /v2/copy/mounted/manifests/1",
    ]);
    const head = await headManifest(client, {
      registry: proxy.host,
      repository: "copy/mounted",
      reference: "1",
    });
    expect(head?.digest).toBe(indexDigest);
    const armBack = await resolveImage(client, parseReference(`${proxy.host}/copy/mounted:1`), {
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
    expect(armBack.digest).toBe(arm.digest);
    // Again: everything is there already.
    const again = await copy(client, `${proxy.host}/copy/multi:1`, `${proxy.host}/copy/mounted:1`);
    expect(new Set(again.blobs.map((x) => x.status))).toEqual(new Set(["exists"]));
  });

  it("between two registries every blob is streamed through once, and the copy is byte for byte (skopeo agrees)", async () => {
    proxy.log.length = 0;
    const result = await copy(
      client,
      parseReference(`${proxy.host}/copy/multi:1`),
      parseReference(`${b.host}/copy/dst:2`),
    );
    expect(result.digest).toBe(indexDigest);
    const unique = [...new Set([...blobsOf(amd), ...blobsOf(arm)])];
    expect(result.blobs).toHaveLength(unique.length);
    expect(new Set(result.blobs.map((x) => x.status))).toEqual(new Set(["pushed"]));
    expect(proxy.blobGets().sort()).toEqual(unique.map((d) => `GET /v2/copy/multi/blobs/${d}`).sort());
    const { stdout } = await promisify(execFile)(
      "skopeo",
      ["inspect", "--tls-verify=false", "--raw", `docker://${b.host}/copy/dst:2`],
      { encoding: "buffer" },
    );
    expect(Buffer.from(stdout).equals(indexBytes)).toBe(true);
    // Every blob is in the destination, and the amd64 image reads back verified.
    for (const d of unique)
      expect(
        await blobSize(client, { registry: b.host, repository: "copy/dst" }, d as Digest),
      ).toBeGreaterThan(0);
    const back = await resolveImage(client, parseReference(`${b.host}/copy/dst:2`), {
      platform: { os: "linux", architecture: "amd64" },
    });
    expect(back.digest).toBe(amd.digest);
    const other = await ImageStore.open({ root: join(dir, "store-b") });
    try {
      const stored = await copyImage(
        back,
        (await import("@tsbuild/oci")).storeSink(other, { names: ["copy/back:1"] }),
      );
      expect(stored.manifestDigest).toBe(amd.digest);
    } finally {
      await other.close();
    }
  });

  it("a single image by digest reference keeps its digest; a destination digest that is not the source's is refused", async () => {
    const result = await copy(client, `${proxy.host}/copy/single@${amd.digest}`, `${b.host}/copy/single:3`);
    expect(result.digest).toBe(amd.digest);
    expect(result.manifests).toBe(1);
    await expect(
      copy(client, `${proxy.host}/copy/single:1`, `${b.host}/copy/single@${arm.digest}`),
    ).rejects.toThrow(/names a digest/);
    await expect(copy(client, `${proxy.host}/copy/nope:1`, `${b.host}/copy/nope:1`)).rejects.toThrow(
      /not found/,
    );
  });

  it("a source that lies about a blob fails the copy with DIGEST_MISMATCH naming the blob, and the destination holds nothing of it", async () => {
    proxy.corruptBlobs = true;
    proxy.log.length = 0;
    try {
      const err = await copy(client, `${proxy.host}/copy/single:1`, `${b.host}/copy/lie:1`, {
        concurrency: 1,
      }).catch((e: unknown) => e);
      expect(isOciError(err, "DIGEST_MISMATCH")).toBe(true);
      expect(String(err)).toMatch(
        new RegExp(
          `blob sha256:[0-9a-f]{64} from ${proxy.host}/copy/single: failed verification: expected sha256:`,
        ),
      );
    } finally {
      proxy.corruptBlobs = false;
    }
    // The lie is not replayed: the copy stopped at the first blob it read.
    expect(proxy.blobGets()).toHaveLength(1);
    expect(
      await headManifest(client, { registry: b.host, repository: "copy/lie", reference: "1" }).catch(
        () => undefined,
      ),
    ).toBeUndefined();
    for (const d of blobsOf(amd))
      expect(
        await blobSize(client, { registry: b.host, repository: "copy/lie" }, d as Digest),
      ).toBeUndefined();
  });
});
