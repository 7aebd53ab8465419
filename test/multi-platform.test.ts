import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkRunSupport } from "@tsbuild/builder";
import {
  digestOf,
  formatPlatform,
  hostPlatform,
  ImageStore,
  type LayerEntry,
  MediaType,
  type Platform,
  parseReference,
  readLayerEntries,
  type StoredImage,
} from "@tsbuild/oci";
import { createRegistryClient, pushImage, pushIndex } from "@tsbuild/registry-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../packages/cli/src/testing.js";
import { debianBusybox } from "./support/debian-busybox.js";
import { makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/**
 * Multi-platform builds, with no x86_64 assumed: the host's platform comes from the running Node, and
 * the "other" platform is arm64 on an amd64 host (amd64 elsewhere). The base is a real multi-platform
 * busybox made here: the host's busybox-static and Debian's busybox-static package for the other
 * architecture (downloaded from the host's mirror, verified, cached), pushed to docker-registry as one
 * index. `--platform host,other` builds each platform from its own base and writes one index to the
 * registry, an OCI layout and the store.
 */

const host = hostPlatform();
const other: Platform =
  host.architecture === "arm64"
    ? { os: "linux", architecture: "amd64" }
    : { os: "linux", architecture: "arm64" };
const hostName = formatPlatform(host);
const otherName = formatPlatform(other);

let registry: TestRegistry;
let dir: string;
const bases = new Map<string, StoredImage>();
const env = (root: string) => ({ ...process.env, TSBUILD_ROOT: root, DOCKER_CONFIG: join(dir, "docker") });
const skopeo = (...args: string[]) => execFileSync("skopeo", args, { encoding: "utf8" });
const raw = (ref: string) => JSON.parse(skopeo("inspect", "--raw", "--tls-verify=false", `docker://${ref}`));
const configOf = (ref: string) =>
  JSON.parse(skopeo("inspect", "--config", "--raw", "--tls-verify=false", `docker://${ref}`));

function busyboxLayer(binary: Buffer): LayerEntry[] {
  return [
    { path: "bin", type: "dir", mode: 0o755 },
    { path: "bin/busybox", type: "file", mode: 0o755, content: binary },
    ...["sh", "cat", "echo", "uname"].map(
      (n): LayerEntry => ({ path: `bin/${n}`, type: "symlink", mode: 0o777, linkname: "busybox" }),
    ),
  ];
}

beforeAll(async () => {
  registry = await startRegistry();
  dir = await tempDir("tsbuild-multiplatform-");
  const seed = await ImageStore.open({ root: join(dir, "seed") });
  try {
    const binaries: [Platform, string][] = [
      [host, "/bin/busybox"],
      [other, await debianBusybox(other.architecture)],
    ];
    const manifests = [];
    for (const [platform, path] of binaries) {
      const name = `${registry.host}/library/busybox:${platform.architecture}`;
      const image = await makeTestImage(seed, {
        layers: [busyboxLayer(await readFile(path))],
        names: [name],
        docker: true,
        platform,
      });
      bases.set(platform.architecture, image);
      const client = createRegistryClient();
      await pushImage(client, image, parseReference(name), { store: seed });
      manifests.push({
        mediaType: MediaType.DockerManifest,
        digest: image.manifestDigest,
        size: image.descriptor.size,
        platform: { os: platform.os, architecture: platform.architecture },
      });
    }
    const index = await seed.layout.writeJson({
      schemaVersion: 2,
      mediaType: MediaType.DockerManifestList,
      manifests,
    });
    await pushIndex(
      createRegistryClient(),
      { digest: index.digest, mediaType: MediaType.DockerManifestList },
      parseReference(`${registry.host}/library/busybox:latest`),
      { store: seed },
    );
  } finally {
    await seed.close();
  }
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("build --platform with several platforms", () => {
  it("builds each platform from its own base and pushes one index; BUILDPLATFORM stages run natively", async () => {
    const ctx = join(dir, "ctx");
    await mkdir(join(ctx, "files"), { recursive: true });
    await writeFile(join(ctx, "files", "a"), "hello\n");
    await writeFile(
      join(ctx, "Dockerfile"),
      [
        `FROM --platform=$BUILDPLATFORM ${registry.host}/library/busybox:latest AS tools`,
        "ARG BUILDPLATFORM TARGETPLATFORM",
        'RUN echo "built on $BUILDPLATFORM for $TARGETPLATFORM" > /out',
        `FROM ${registry.host}/library/busybox:latest`,
        "ARG TARGETPLATFORM TARGETARCH",
        "ENV TARGET=$TARGETPLATFORM ARCH=$TARGETARCH",
        "COPY files/ /files/",
        "COPY --from=tools /out /out",
        'CMD ["cat", "/files/a"]',
        "",
      ].join("\n"),
    );
    const name = `${registry.host}/me/app:multi`;
    const layout = join(dir, "layout");
    const root = join(dir, "runner");
    const r = await runCli(
      [
        "build",
        "--platform",
        `${hostName},${otherName}`,
        "-t",
        name,
        "--push",
        "-o",
        `type=oci,dest=${layout}`,
        ctx,
      ],
      { env: env(root) },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    // Progress names each platform's steps as BuildKit does.
    expect(r.stderr).toContain(`[${otherName} stage-1 2/3] COPY files/ /files/`);

    const index = raw(name);
    expect(index.mediaType).toBe(MediaType.DockerManifestList);
    expect(
      index.manifests.map((m: { platform: Platform }) => `${m.platform.os}/${m.platform.architecture}`),
    ).toEqual([`linux/${host.architecture}`, `linux/${other.architecture}`]);
    for (const m of index.manifests as { digest: string; platform: Platform }[]) {
      const arch = m.platform.architecture;
      const ref = `${registry.host}/me/app@${m.digest}`;
      const manifest = raw(ref);
      // The right base: the platform's own busybox layer comes first.
      expect(manifest.layers[0].digest).toBe(bases.get(arch)!.manifest.layers[0]!.digest);
      const config = configOf(ref);
      expect(config.architecture).toBe(arch);
      expect(config.config.Env).toContain(`TARGET=linux/${arch}`);
      expect(config.config.Env).toContain(`ARCH=${arch}`);
      // The BUILDPLATFORM stage ran on the host for each target (no emulation needed): its file, read
      // from the OCI layout output, which holds the same layer blobs.
      const last = manifest.layers[manifest.layers.length - 1].digest as string;
      const entries = await readLayerEntries(
        createReadStream(join(layout, "blobs", "sha256", last.slice(7))),
      );
      const out = entries.find((e) => e.name === "out");
      expect(out?.digest).toBe(digestOf(Buffer.from(`built on ${hostName} for linux/${arch}\n`)));
    }

    // The OCI layout holds one index named by the tag, its platforms in OCI media types.
    const top = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
    expect(top.manifests).toHaveLength(1);
    expect(top.manifests[0].mediaType).toBe(MediaType.OciIndex);
    expect(top.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("multi");
    const ociIndex = JSON.parse(skopeo("inspect", "--raw", `oci:${layout}:multi`));
    expect(ociIndex.manifests).toHaveLength(2);
    // An OCI archive holds the same layout in one tar (a rebuild: every step cached).
    const archive = join(dir, "multi.tar");
    const again = await runCli(
      [
        "build",
        "-q",
        "--platform",
        `${hostName},${otherName}`,
        "-o",
        `type=oci-archive,dest=${archive}`,
        ctx,
      ],
      { env: env(root) },
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(skopeo("inspect", "--raw", `oci-archive:${archive}`))).toEqual(ociIndex);
    expect(
      ociIndex.manifests.every((m: { mediaType: string }) => m.mediaType === MediaType.OciManifest),
    ).toBe(true);

    // The store names the index; the other platform's base did not take the base's name.
    const store = await ImageStore.open({ root });
    try {
      const pushed = r.stdout.match(/multi: digest: (sha256:[0-9a-f]{64})/)?.[1];
      expect(pushed).toBeDefined();
      expect((await store.indexNamed(name))?.digest).toBe(pushed);
      const named = await store.resolve(`${registry.host}/library/busybox:latest`);
      expect(named.config.architecture).toBe(host.architecture);
    } finally {
      await store.close();
    }
  });

  it("builds a single other-platform image without RUN, and a RUN for it needs an emulator (a clear error without one)", async () => {
    const ctx = join(dir, "ctx-other");
    await mkdir(ctx, { recursive: true });
    await writeFile(
      join(ctx, "Dockerfile"),
      `FROM ${registry.host}/library/busybox:latest\nCOPY Dockerfile /\n`,
    );
    const root = join(dir, "other");
    const ok = await runCli(["build", "--platform", otherName, "-t", "other:1", ctx], { env: env(root) });
    expect(ok.code).toBe(0);
    const inspect = await runCli(["image", "inspect", "other:1"], { env: env(root) });
    expect(JSON.parse(inspect.stdout)[0].Architecture).toBe(other.architecture);

    await writeFile(join(ctx, "Dockerfile"), `FROM ${registry.host}/library/busybox:latest\nRUN uname -m\n`);
    const run = await runCli(["build", "--progress", "plain", "--platform", otherName, ctx], {
      env: env(root),
    });
    const support = await checkRunSupport();
    const emulation = support.checks.find((c) => c.name === "emulation");
    expect(emulation).toBeDefined();
    if (emulation?.status === "ok" && emulation.detail.includes(`linux/${other.architecture}`)) {
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(other.architecture === "arm64" ? "aarch64" : "x86_64");
    } else {
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `stage stage-0: RUN for ${otherName} cannot execute on this ${hostName} host`,
      );
      expect(run.stderr).toContain("qemu-user-static");
    }
  });

  it("refuses a multi-platform build to a one-image exporter, naming the ones that work", async () => {
    const ctx = join(dir, "ctx-other");
    await writeFile(
      join(ctx, "Dockerfile"),
      `FROM ${registry.host}/library/busybox:latest\nCOPY Dockerfile /\n`,
    );
    const r = await runCli(
      [
        "build",
        "--platform",
        `${hostName},${otherName}`,
        "-o",
        `type=docker,dest=${join(dir, "x.tar")}`,
        ctx,
      ],
      { env: env(join(dir, "refuse")) },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the docker exporter does not support multi-platform images");
  });
});
