import { execFile, execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  append,
  archiveImages,
  copyImage,
  type Digest,
  digestOfStream,
  directoryLayer,
  type Image,
  ImageStore,
  isOciError,
  layoutImage,
  layoutSink,
  MediaType,
  mutateConfig,
  parseReference,
  readArchive,
  storeImage,
  storeSink,
  type TarEntryInfo,
  tarEntries,
  tarLayer,
  writeArchive,
} from "@tsbuild/oci";
import { RegistryClient, registrySink, resolveImage, StaticCredentials } from "@tsbuild/registry-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CountingProxy, startCountingProxy } from "./support/counting-proxy.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/** EPOCH is SOURCE_DATE_EPOCH for the directory layer: every mtime after it is clamped to it. */
const EPOCH = 1_700_000_000;

/** entriesOf lists a layer's tar entries (name, type, mode, owner, mtime, link, content). */
async function entriesOf(image: Image, i: number): Promise<(Partial<TarEntryInfo> & { text?: string })[]> {
  const out: (Partial<TarEntryInfo> & { text?: string })[] = [];
  for await (const { info, body } of tarEntries(await image.layers[i]!.uncompressed())) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    out.push({
      name: info.name,
      type: info.type,
      mode: info.mode,
      uid: info.uid,
      gid: info.gid,
      mtime: info.mtime,
      ...(info.linkname ? { linkname: info.linkname } : {}),
      ...(info.type === "file" ? { text: Buffer.concat(chunks).toString() } : {}),
    });
  }
  return out;
}

/** verifyBlobs re-hashes every stored blob of `image` in `store` from its file (independent of the model's checks). */
async function verifyBlobs(store: ImageStore, image: Image): Promise<void> {
  const hash = async (d: Digest) => (await digestOfStream(createReadStream(store.layout.blobPath(d)))).digest;
  expect(await hash(image.digest)).toBe(image.digest);
  expect(await hash(image.configDigest)).toBe(image.configDigest);
  for (const l of image.layers) {
    expect(await hash(l.digest)).toBe(l.digest);
    const { digest } = await digestOfStream(await l.uncompressed());
    expect(digest).toBe(l.diffId);
  }
}

describe("append: a directory and a tar on top of a base, to the store, a layout, an archive and a registry", () => {
  let dir: string;
  let store: ImageStore;
  let base: Image;
  let appDir: string;
  let tarGz: string;
  let tarPlain: string;
  let registry: TestRegistry;
  let proxy: CountingProxy;
  let client: RegistryClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-append-"));
    store = await ImageStore.open({ root: join(dir, "store") });
    await makeTestImage(store, {
      layers: [fileLayer("etc", { "os-release": "ID=test\n" }), fileLayer("bin", { tool: "#!/bin/sh\n" })],
      names: ["append/base:1"],
      cmd: ["/bin/tool"],
    });
    base = await storeImage(store, "append/base:1");

    // The directory: an executable, a private file, a subdirectory and a symlink, owned by 1234:5678 on disk.
    appDir = join(dir, "app");
    await mkdir(join(appDir, "sub"), { recursive: true });
    await writeFile(join(appDir, "run.sh"), "#!/bin/sh\necho hi\n");
    await chmod(join(appDir, "run.sh"), 0o755);
    await writeFile(join(appDir, "sub", "secret.txt"), "s3\n");
    await chmod(join(appDir, "sub", "secret.txt"), 0o600);
    await symlink("run.sh", join(appDir, "start"));
    execFileSync("chown", ["-R", "-h", "1234:5678", appDir]);
    // One mtime before the epoch (kept), the rest now (clamped).
    await utimes(join(appDir, "sub", "secret.txt"), 1_600_000_000, 1_600_000_000);

    // The tars: made by GNU tar, with their own owners and mtimes.
    const tarSrc = join(dir, "tarsrc");
    await mkdir(join(tarSrc, "opt"), { recursive: true });
    await writeFile(join(tarSrc, "opt", "data.bin"), Buffer.alloc(70_000, 7));
    tarPlain = join(dir, "layer.tar");
    tarGz = join(dir, "layer.tar.gz");
    const tarArgs = ["--owner=42", "--group=43", "--numeric-owner", "--mtime=@1500000000", "--sort=name"];
    execFileSync("tar", ["-cf", tarPlain, ...tarArgs, "-C", tarSrc, "opt"]);
    execFileSync("tar", ["-czf", tarGz, ...tarArgs, "-C", tarSrc, "opt"]);

    registry = await startRegistry();
    proxy = await startCountingProxy(registry.url);
    client = new RegistryClient({ credentials: new StaticCredentials() });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dirLayer = () =>
    directoryLayer(appDir, { prefix: "srv/app", chown: { uid: 0, gid: 0 }, sourceDateEpoch: EPOCH });

  const appEntries = [
    { name: "srv/", type: "dir", uid: 0, gid: 0 },
    { name: "srv/app/", type: "dir", uid: 0, gid: 0 },
    {
      name: "srv/app/run.sh",
      type: "file",
      mode: 0o755,
      uid: 0,
      gid: 0,
      mtime: EPOCH,
      text: "#!/bin/sh\necho hi\n",
    },
    { name: "srv/app/start", type: "symlink", mode: 0o777, uid: 0, gid: 0, linkname: "run.sh" },
    { name: "srv/app/sub/", type: "dir", mode: 0o755, uid: 0, gid: 0 },
    {
      name: "srv/app/sub/secret.txt",
      type: "file",
      mode: 0o600,
      uid: 0,
      gid: 0,
      mtime: 1_600_000_000,
      text: "s3\n",
    },
  ];

  it("to the store: the base's layers, then the directory (owners 0:0, mtimes clamped) and the tar as it was; digests verify", async () => {
    const image = append(base, await dirLayer(), await tarLayer(tarGz));
    const stored = await copyImage(image, storeSink(store, { names: ["append/out:1"] }));
    expect(stored.manifestDigest).toBe(image.digest);
    const back = await storeImage(store, "append/out:1");
    expect(back.rawManifest.equals(image.rawManifest)).toBe(true);
    expect(back.layers.map((l) => l.digest)).toEqual([
      ...base.layers.map((l) => l.digest),
      ...image.layers.slice(2).map((l) => l.digest),
    ]);
    expect(back.layers).toHaveLength(4);
    // The base is an OCI image: the new layers are OCI gzip layers.
    expect(back.manifest.layers.map((l) => l.mediaType)).toEqual(Array(4).fill(MediaType.OciLayerGzip));

    const app = await entriesOf(back, 2);
    expect(app).toMatchObject(appEntries);
    expect(app).toHaveLength(appEntries.length);
    // Owners on disk were 1234:5678; the prefix's parents are directories too.
    expect((await lstat(join(appDir, "run.sh"))).uid).toBe(1234);
    expect(await entriesOf(back, 3)).toEqual([
      { name: "opt/", type: "dir", mode: 0o755, uid: 42, gid: 43, mtime: 1_500_000_000 },
      {
        name: "opt/data.bin",
        type: "file",
        mode: 0o644,
        uid: 42,
        gid: 43,
        mtime: 1_500_000_000,
        text: "\x07".repeat(70_000),
      },
    ]);
    // The tar.gz is the blob byte for byte.
    expect(back.layers[3]!.digest).toBe((await digestOfStream(createReadStream(tarGz))).digest);

    // The config: two diff_ids and two history rows more, everything else as the base's.
    expect(back.config.rootfs.diff_ids).toEqual([
      ...base.config.rootfs.diff_ids,
      back.layers[2]!.diffId,
      back.layers[3]!.diffId,
    ]);
    expect(back.config.history).toHaveLength(4);
    expect(back.config.history?.slice(0, 2)).toEqual(base.config.history);
    expect(back.config.history?.[2]?.created_by).toBe("tsbuild append");
    expect(back.config.config).toEqual(base.config.config);
    expect(back.config.architecture).toBe(base.config.architecture);
    await verifyBlobs(store, back);
  });

  it("a plain tar is gzipped; the same inputs give the same digests; a directory changed after it was hashed fails the write and stores nothing", async () => {
    const plain = await tarLayer(tarPlain);
    const gz = await tarLayer(tarGz);
    expect(plain.diffId).toBe(gz.diffId);
    expect(plain.diffId).toBe((await digestOfStream(createReadStream(tarPlain))).digest);
    expect(plain.digest).not.toBe(gz.digest);
    expect(plain.digest).toBe((await tarLayer(tarPlain)).digest);
    const a = await dirLayer();
    expect((await dirLayer()).digest).toBe(a.digest);

    const changed = join(dir, "changing");
    await mkdir(changed);
    await writeFile(join(changed, "f"), "one");
    const layer = await directoryLayer(changed, { sourceDateEpoch: EPOCH });
    await writeFile(join(changed, "f"), "two");
    const image = append(base, layer);
    const err = await copyImage(image, storeSink(store, { names: ["append/changed:1"] })).catch(
      (e: unknown) => e,
    );
    expect(isOciError(err, "DIGEST_MISMATCH")).toBe(true);
    expect(String(err)).toContain(`layer from ${changed}`);
    await expect(store.resolve("append/changed:1")).rejects.toThrow();
    expect(await store.layout.hasBlob(layer.digest)).toBe(false);
  });

  it("not a tar, or a missing file: a clear error before any image exists", async () => {
    const junk = join(dir, "junk.tar");
    await writeFile(junk, Buffer.alloc(1024, 0x41));
    await expect(tarLayer(junk)).rejects.toThrow(/not a valid tar archive/);
    await expect(tarLayer(join(dir, "nope.tar"))).rejects.toThrow(/cannot read layer tarball/);
  });

  it("to an OCI layout that skopeo and umoci read, and to a docker archive that reads back the same", async () => {
    const image = mutateConfig(append(base, await dirLayer(), await tarLayer(tarPlain)), {
      Entrypoint: ["/srv/app/run.sh"],
      Cmd: undefined,
    });
    const layout = join(dir, "layout");
    await copyImage(image, layoutSink(layout, { name: "out" }));
    const raw = execFileSync("skopeo", ["inspect", "--raw", `oci:${layout}:out`]);
    expect(raw.equals(image.rawManifest)).toBe(true);
    const cfg = JSON.parse(
      execFileSync("skopeo", ["inspect", "--config", `oci:${layout}:out`], { encoding: "utf8" }),
    );
    expect(cfg.rootfs.diff_ids).toEqual(image.config.rootfs.diff_ids);
    expect(cfg.config.Entrypoint).toEqual(["/srv/app/run.sh"]);
    expect(cfg.config.Cmd).toBeUndefined();
    // skopeo copies it (verifying every blob) to another layout.
    execFileSync("skopeo", ["copy", "-q", `oci:${layout}:out`, `oci:${join(dir, "layout2")}:copy`]);
    const bundle = join(dir, "bundle");
    execFileSync("umoci", ["unpack", "--image", `${layout}:out`, bundle], { stdio: "pipe" });
    const rootfs = join(bundle, "rootfs");
    expect(await readFile(join(rootfs, "etc", "os-release"), "utf8")).toBe("ID=test\n");
    const run = await lstat(join(rootfs, "srv", "app", "run.sh"));
    expect([run.mode & 0o7777, run.uid, run.gid]).toEqual([0o755, 0, 0]);
    expect((await lstat(join(rootfs, "srv", "app", "sub", "secret.txt"))).mode & 0o7777).toBe(0o600);
    expect(await readlink(join(rootfs, "srv", "app", "start"))).toBe("run.sh");
    const data = await lstat(join(rootfs, "opt", "data.bin"));
    expect([data.size, data.uid, data.gid]).toEqual([70_000, 42, 43]);

    const fromLayout = await layoutImage(layout, "out");
    expect(fromLayout.digest).toBe(image.digest);
    const tar = join(dir, "out.tar");
    await writeArchive(tar, [{ image, names: ["append/out:2"] }]);
    const archive = await readArchive(tar);
    try {
      const [found] = archiveImages(archive);
      expect(found!.image.digest).toBe(image.digest);
      expect(await entriesOf(found!.image, 2)).toMatchObject(appEntries);
    } finally {
      await archive.close();
    }
  });

  it("to a registry: on a base resolved from the registry, the base's layers are mounted, never downloaded, and the new ones pushed", async () => {
    const baseRef = parseReference(`${proxy.host}/append/base:1`);
    await copyImage(base, registrySink(client, baseRef));
    const remoteBase = await resolveImage(client, baseRef);
    const image = append(remoteBase, await dirLayer(), await tarLayer(tarGz));
    proxy.log.length = 0;
    const ref = parseReference(`${proxy.host}/append/app:1`);
    const pushed = await copyImage(image, registrySink(client, ref));
    expect(pushed.digest).toBe(image.digest);
    expect(pushed.blobs.map((b) => b.status)).toEqual(["mounted", "mounted", "pushed", "pushed", "pushed"]);
    expect(proxy.blobGets()).toEqual([]);

    // skopeo talks to the proxy, which runs in this process: a sync exec would block it.
    const { stdout } = await promisify(execFile)("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--config",
      `docker://${proxy.host}/append/app:1`,
    ]);
    const cfg = JSON.parse(stdout);

    expect(cfg.rootfs.diff_ids).toEqual(image.config.rootfs.diff_ids);
    const back = await resolveImage(client, ref);
    expect(back.digest).toBe(image.digest);
    expect(await entriesOf(back, 2)).toMatchObject(appEntries);
    const other = await ImageStore.open({ root: join(dir, "store-from-registry") });
    try {
      await copyImage(back, storeSink(other, { names: ["append/app:1"] }));
      await verifyBlobs(other, await storeImage(other, "append/app:1"));
    } finally {
      await other.close();
    }
  });
});
