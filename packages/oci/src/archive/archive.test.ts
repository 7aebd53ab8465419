import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmod,
  chown,
  link,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../canonical-json.js";
import { type Digest, digestOf } from "../digest.js";
import { walkDirectory } from "../layer/walk.js";
import { createLayer } from "../layer/writer.js";
import { MediaType } from "../media-types.js";
import { readArchive } from "./read.js";
import { writeDockerArchive } from "./write.js";

const skopeo = (...args: string[]) =>
  execFileSync("skopeo", ["--insecure-policy", ...args], { encoding: "utf8" });

async function collect(s: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

let dir: string;
let src: string;
const blobs = new Map<string, Buffer>();
let manifest: Buffer;
let config: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "archive-"));
  src = join(dir, "src");
  await mkdir(join(src, "etc/sub"), { recursive: true });
  await writeFile(join(src, "etc/sub/file"), "hello\n");
  // Big enough to span several independently compressed gzip blocks.
  await writeFile(join(src, "big.bin"), randomBytes(3 * 1024 * 1024 + 5));
  await writeFile(join(src, "suid"), "#!/bin/sh\n");
  await chmod(join(src, "suid"), 0o4755);
  await chown(join(src, "suid"), 1000, 1000);
  await link(join(src, "etc/sub/file"), join(src, "hard"));
  await symlink("etc/sub/file", join(src, "sym"));
  execFileSync("mkfifo", [join(src, "fifo")]);
  execFileSync("mknod", [join(src, "null"), "c", "1", "3"]);
  const t = new Date(1_500_000_000_000);
  for (const p of ["etc/sub/file", "suid", "fifo", "null", "etc/sub", "etc"])
    await utimes(join(src, p), t, t);

  const layer = createLayer({ dir: src });
  const gz = await collect(layer.stream);
  const r = await layer.result;
  blobs.set(r.digest, gz);
  config = canonicalJson({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: [r.diffId] },
    history: [{ created_by: "tsbuild test" }],
  });
  manifest = canonicalJson({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: MediaType.OciLayerGzip, digest: r.digest, size: r.size }],
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const image = () => ({
  names: ["docker.io/library/tsb-test:v1"],
  manifest,
  config,
  blob: (d: Digest) => Readable.from([blobs.get(d)!]),
});

describe("writeDockerArchive", () => {
  it("is read by skopeo as docker-archive and oci-archive, and unpacks to the same tree", async () => {
    const file = join(dir, "img.tar");
    await writeDockerArchive(file, [image()]);
    const listing = execFileSync("tar", ["-tf", file], { encoding: "utf8" }).trim().split("\n");
    expect(listing).toEqual(
      expect.arrayContaining(["manifest.json", "repositories", "index.json", "oci-layout", "blobs/sha256/"]),
    );
    const dm = JSON.parse(execFileSync("tar", ["-xOf", file, "manifest.json"], { encoding: "utf8" }));
    expect(dm[0].RepoTags).toEqual(["tsb-test:v1"]);

    const viaDocker = JSON.parse(skopeo("inspect", `docker-archive:${file}`));
    expect(viaDocker.RepoTags).toBeDefined();
    expect(viaDocker.Layers).toHaveLength(1);
    const viaOci = JSON.parse(skopeo("inspect", `oci-archive:${file}`));
    expect(viaOci.Digest).toBe(digestOf(manifest));
    expect(viaOci.Layers).toEqual([...blobs.keys()]);

    const oci = join(dir, "oci");
    skopeo("copy", `docker-archive:${file}`, `oci:${oci}:t`);
    execFileSync("umoci", ["unpack", "--image", `${oci}:t`, join(dir, "bundle")]);
    const strip = (es: Awaited<ReturnType<typeof walkDirectory>>) =>
      es.map(({ content: _c, ...e }) => (e.type === "dir" ? { ...e, mtime: 0 } : e));
    expect(strip(await walkDirectory(join(dir, "bundle/rootfs")))).toEqual(strip(await walkDirectory(src)));
    expect(await readFile(join(dir, "bundle/rootfs/hard"), "utf8")).toBe("hello\n");
    for (const f of ["big.bin", "etc/sub/file", "suid"]) {
      expect(digestOf(await readFile(join(dir, "bundle/rootfs", f)))).toBe(
        digestOf(await readFile(join(src, f))),
      );
    }
  });

  it("rejects a blob that does not match its descriptor", async () => {
    const bad = { ...image(), blob: () => Readable.from([Buffer.from("not the layer")]) };
    await expect(writeDockerArchive(join(dir, "bad.tar"), [bad])).rejects.toMatchObject({
      code: "SIZE_MISMATCH",
    });
  });
});

describe("writeDockerArchive with several images", () => {
  it("stores shared layers once; Docker media types work for both skopeo transports", async () => {
    const [layerDigest] = [...blobs.keys()];
    const layerSize = blobs.get(layerDigest!)!.length;
    const config2 = canonicalJson({ ...JSON.parse(config.toString()), config: { Cmd: ["/bin/true"] } });
    const manifest2 = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: digestOf(config2), size: config2.length },
      layers: [{ mediaType: MediaType.DockerLayerGzip, digest: layerDigest, size: layerSize }],
    });
    const file = join(dir, "two.tar");
    await writeDockerArchive(file, [
      image(),
      {
        ...image(),
        names: ["registry.example:5000/team/app:2", "docker.io/me/app:latest"],
        manifest: manifest2,
        config: config2,
      },
    ]);
    const listing = execFileSync("tar", ["-tf", file], { encoding: "utf8" }).trim().split("\n");
    expect(listing.filter((n) => n === `blobs/sha256/${layerDigest!.slice(7)}`)).toHaveLength(1);
    const dm = JSON.parse(execFileSync("tar", ["-xOf", file, "manifest.json"], { encoding: "utf8" }));
    expect(dm.map((e: { RepoTags: string[] }) => e.RepoTags)).toEqual([
      ["tsb-test:v1"],
      ["registry.example:5000/team/app:2", "me/app:latest"],
    ]);
    const second = JSON.parse(skopeo("inspect", "--raw", `docker-archive:${file}:me/app:latest`));
    expect(second.config.digest).toBe(digestOf(config2));
    // The Docker-typed manifest is stored with OCI media types over the same blobs.
    const viaOci = JSON.parse(skopeo("inspect", "--raw", `oci-archive:${file}:2`));
    expect(viaOci).toMatchObject({
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config2) },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layerDigest }],
    });

    const a = await readArchive(file);
    expect(a.images.map((i) => i.names)).toEqual([
      ["docker.io/library/tsb-test:v1"],
      ["registry.example:5000/team/app:2", "docker.io/me/app:latest"],
    ]);
    await a.close();
  });
});

describe("readArchive", () => {
  it("reads back our own archive with verified blobs", async () => {
    const file = join(dir, "own.tar");
    await writeDockerArchive(file, [image()]);
    const a = await readArchive(file);
    expect(a.format).toBe("oci");
    expect(a.images).toHaveLength(1);
    const img = a.images[0]!;
    expect(img.names).toEqual(["docker.io/library/tsb-test:v1"]);
    expect(img.manifestDigest).toBe(digestOf(manifest));
    expect(img.config.equals(config)).toBe(true);
    const [d] = [...blobs.keys()];
    expect((await collect(a.openBlob(d as Digest))).equals(blobs.get(d!)!)).toBe(true);
    await a.close();
  });

  it("reads skopeo's docker-archive (legacy layout) and oci-archive, gzip or not", async () => {
    const oci = join(dir, "oci");
    const legacy = join(dir, "legacy.tar");
    const ociTar = join(dir, "skopeo-oci.tar");
    skopeo("copy", `oci:${oci}:t`, `docker-archive:${legacy}:tsb-test:legacy`);
    skopeo("copy", `oci:${oci}:t`, `oci-archive:${ociTar}:t2`);
    execFileSync("sh", ["-c", `gzip -c '${legacy}' > '${legacy}.gz'`]);
    for (const f of [legacy, `${legacy}.gz`, ociTar]) {
      const a = await readArchive(f);
      expect(a.images).toHaveLength(1);
      expect(a.format).toBe(f === ociTar ? "oci" : "docker");
      const img = a.images[0]!;
      expect(img.names).toEqual([f === ociTar ? "t2" : "docker.io/library/tsb-test:legacy"]);
      const diffIds = JSON.parse(img.config.toString()).rootfs.diff_ids;
      expect(img.manifest.layers).toHaveLength(1);
      const layerBytes = await collect(a.openBlob(img.manifest.layers[0]!.digest));
      expect(digestOf(layerBytes)).toBe(img.manifest.layers[0]!.digest);
      if (f !== ociTar) expect(img.manifest.layers[0]!.digest).toBe(diffIds[0]);
      await a.close();
    }
  });

  it("reads a multi-platform index, skipping platforms not saved and attestations", async () => {
    const lay = join(dir, "multi");
    await mkdir(join(lay, "blobs/sha256"), { recursive: true });
    const put = async (b: Buffer) => {
      await writeFile(join(lay, "blobs/sha256", digestOf(b).slice(7)), b);
      return { digest: digestOf(b), size: b.length };
    };
    for (const b of [...blobs.values(), config, manifest]) await put(b);
    const missing = `sha256:${"ab".repeat(32)}`;
    const nested = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        {
          mediaType: MediaType.OciManifest,
          ...(await put(manifest)),
          platform: { architecture: "amd64", os: "linux" },
        },
        {
          mediaType: MediaType.OciManifest,
          digest: missing,
          size: 500,
          platform: { architecture: "arm64", os: "linux" },
        },
        {
          mediaType: MediaType.OciManifest,
          ...(await put(manifest)),
          annotations: { "vnd.docker.reference.type": "attestation-manifest" },
        },
      ],
    });
    const nd = await put(nested);
    await writeFile(
      join(lay, "index.json"),
      canonicalJson({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: MediaType.OciIndex,
            ...nd,
            annotations: { "io.containerd.image.name": "docker.io/library/multi:1" },
          },
        ],
      }),
    );
    await writeFile(join(lay, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    execFileSync("tar", ["-cf", join(dir, "multi.tar"), "-C", lay, "."]);
    const a = await readArchive(join(dir, "multi.tar"));
    expect(a.images.map((i) => [i.names, i.platform, i.manifestDigest])).toEqual([
      [["docker.io/library/multi:1"], { architecture: "amd64", os: "linux" }, digestOf(manifest)],
    ]);
    await a.close();
  });

  it("reads docker 20.10's save, where a repeated layer's layer.tar is a symlink to the first; never a link out of the archive", async () => {
    const legacy = join(dir, "legacy");
    await mkdir(join(legacy, "aaa"), { recursive: true });
    await mkdir(join(legacy, "bbb"));
    const layer = createLayer(
      { entries: [{ path: "f", type: "file", content: "f" }] },
      { compression: "none" },
    );
    await writeFile(join(legacy, "aaa/layer.tar"), await collect(layer.stream));
    const { diffId } = await layer.result;
    await symlink("../aaa/layer.tar", join(legacy, "bbb/layer.tar"));
    const cfg = JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [diffId, diffId] },
    });
    await writeFile(join(legacy, "cfg.json"), cfg);
    const entry = { Config: "cfg.json", RepoTags: ["legacy:1"], Layers: ["aaa/layer.tar", "bbb/layer.tar"] };
    await writeFile(join(legacy, "manifest.json"), JSON.stringify([entry]));
    execFileSync("tar", ["-cf", join(dir, "legacy.tar"), "-C", legacy, "."]);
    const a = await readArchive(join(dir, "legacy.tar"));
    expect(a.images[0]!.manifest.layers.map((l) => l.digest)).toEqual([diffId, diffId]);
    expect((await collect(a.openBlob(diffId))).length).toBeGreaterThan(0);
    await a.close();

    await rm(join(legacy, "bbb/layer.tar"));
    await symlink("../../aaa/layer.tar", join(legacy, "bbb/layer.tar"));
    execFileSync("tar", ["-cf", join(dir, "legacy-out.tar"), "-C", legacy, "."]);
    await expect(readArchive(join(dir, "legacy-out.tar"))).rejects.toThrow(
      /bbb\/layer.tar: layer file is missing/,
    );
  });

  it("rejects archives that refer outside themselves or are corrupt", async () => {
    const evil = join(dir, "evil");
    await mkdir(evil);
    await writeFile(join(evil, "manifest.json"), JSON.stringify([{ Config: "../etc/passwd", Layers: [] }]));
    execFileSync("tar", ["-cf", join(dir, "evil.tar"), "-C", evil, "manifest.json"]);
    await expect(readArchive(join(dir, "evil.tar"))).rejects.toMatchObject({ code: "INVALID_ARCHIVE" });

    await writeFile(join(evil, "manifest.json"), "[]");
    await writeFile(
      join(evil, "index.json"),
      '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2}]}',
    );
    await mkdir(join(evil, "blobs/sha256"), { recursive: true });
    await writeFile(
      join(evil, "blobs/sha256/0000000000000000000000000000000000000000000000000000000000000000"),
      "{}",
    );
    execFileSync("tar", ["-cf", join(dir, "evil2.tar"), "-C", evil, "."]);
    await expect(readArchive(join(dir, "evil2.tar"))).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });

    await writeFile(join(dir, "trunc.tar"), (await readFile(join(dir, "own.tar"))).subarray(0, 3000));
    await expect(readArchive(join(dir, "trunc.tar"))).rejects.toMatchObject({ code: "INVALID_ARCHIVE" });
  });
});
