import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BuildEvent, build } from "@tsbuild/builder";
import { archiveImages, type Image, ImageStore, readArchive, type StoredImage } from "@tsbuild/oci";
import { createRegistryClient } from "@tsbuild/registry-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../packages/cli/src/testing.js";
import { type CountingProxy, startCountingProxy } from "./support/counting-proxy.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/**
 * Lazy base layers (issue 8): a build whose steps never read the base's files
 * downloads only the base's manifest and config; the store records where the
 * layers are; push to the same registry mounts them; save fetches and
 * verifies them. Every request goes through a counting proxy in front of the
 * real docker-registry, so "downloads nothing" is counted, not assumed.
 */
describe("lazy base layers against docker-registry", () => {
  let registry: TestRegistry;
  let proxy: CountingProxy;
  let dir: string;
  let ctx: string;
  let base: StoredImage;
  let host: string;
  const env = (store: string) => ({
    ...process.env,
    TSBUILD_ROOT: join(dir, store),
    DOCKER_CONFIG: join(dir, "docker"),
  });
  const cli = async (store: string, args: string[]) => {
    const r = await runCli(args, { env: env(store) });
    if (r.code !== 0) throw new Error(`tsbuild ${args.join(" ")} (exit ${r.code}): ${r.stderr}`);
    return r;
  };
  const buildIn = async (store: string, dockerfile: string, tag: string) => {
    await writeFile(join(ctx, "Dockerfile"), dockerfile);
    return cli(store, ["build", "-q", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "-t", tag, ctx]);
  };
  const layerGets = () =>
    proxy.blobGets().filter((l) => base.manifest.layers.some((d) => l.endsWith(`/blobs/${d.digest}`)));
  const opened = async <T>(store: string, fn: (s: ImageStore) => Promise<T>) => {
    const s = await ImageStore.open({ root: join(dir, store) });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startCountingProxy(registry.url);
    host = proxy.host;
    dir = await tempDir("tsbuild-lazy-");
    ctx = join(dir, "ctx");
    await mkdir(ctx);
    await writeFile(join(ctx, "f.txt"), "hello\n");
    base = await opened("seed", (s) =>
      makeTestImage(s, {
        layers: [
          fileLayer("etc", { passwd: "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n" }),
          fileLayer("usr", { "big.bin": Buffer.alloc(200_000, 7) }),
        ],
        names: [`${host}/lazy/base:1`],
        docker: true,
      }),
    );
    await cli("seed", ["push", `${host}/lazy/base:1`]);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("COPY --link and metadata onto a registry base download no layer; ls, inspect and history work; push mounts; save fetches and verifies", async () => {
    proxy.log.length = 0;
    const df = `FROM ${host}/lazy/base:1\nCOPY --link f.txt /app/\nENV A=1\nLABEL x=y\nCMD ["sh"]\n`;
    await buildIn("lazy", df, `${host}/lazy/out:1`);
    expect(proxy.blobGets()).toEqual([`GET /v2/lazy/base/blobs/${base.id}`]);
    const built = await opened("lazy", async (s) => {
      for (const l of base.manifest.layers) expect(await s.layout.hasBlob(l.digest)).toBe(false);
      expect(await s.remoteBlob(base.manifest.layers[0]!.digest)).toMatchObject({
        registry: host,
        repository: "lazy/base",
      });
      return s.resolve(`${host}/lazy/out:1`);
    });
    expect(built.manifest.layers.slice(0, 2)).toEqual(base.manifest.layers);

    const ls = await cli("lazy", ["image", "ls"]);
    expect(ls.stdout).toContain(`${host}/lazy/out`);
    expect(ls.stdout).toContain(`${host}/lazy/base`);
    const inspect = JSON.parse((await cli("lazy", ["image", "inspect", `${host}/lazy/out:1`])).stdout);
    expect(inspect[0].Id).toBe(built.id);
    expect(inspect[0].Config.Env).toContain("A=1");
    expect((await cli("lazy", ["image", "history", `${host}/lazy/out:1`])).stdout).toContain("COPY");

    // push to another repository of the same registry: the base layers are mounted, never read.
    proxy.log.length = 0;
    await cli("lazy", ["push", `${host}/lazy/out:1`]);
    expect(layerGets()).toEqual([]);
    for (const l of base.manifest.layers)
      expect(proxy.log).toContain(
        `POST /v2/lazy/out/blobs/uploads/?mount=${encodeURIComponent(l.digest)}&from=${encodeURIComponent("lazy/base")}`,
      );

    // save needs the bytes: it fetches each base layer once, verified, and the archive holds them.
    proxy.log.length = 0;
    const tar = join(dir, "out.tar");
    await cli("lazy", ["save", "-o", tar, `${host}/lazy/out:1`]);
    expect(layerGets().sort()).toEqual(
      base.manifest.layers.map((l) => `GET /v2/lazy/base/blobs/${l.digest}`).sort(),
    );
    const archive = await readArchive(tar);
    try {
      const [{ image } = { image: undefined as unknown as Image }] = archiveImages(archive);
      // A docker archive keeps the config (the image ID) and layers; its index holds the OCI form of the manifest.
      expect(image.configDigest).toBe(built.id);
      expect(image.layers.map((l) => l.digest)).toEqual(built.manifest.layers.map((l) => l.digest));
      for (const l of image.layers) for await (const _ of await l.compressed()) void _;
    } finally {
      await archive.close();
    }
    // The fetched layers are in the store now.
    await opened("lazy", async (s) => {
      for (const l of base.manifest.layers) expect(await s.layout.hasBlob(l.digest)).toBe(true);
    });

    // pull of a lazily resolved base is not "up to date" until its layers are here.
    await buildIn("lazy-pull", `FROM ${host}/lazy/base:1\nENV P=1\n`, "p:1");
    proxy.log.length = 0;
    const pulled = await cli("lazy-pull", ["pull", `${host}/lazy/base:1`]);
    expect(pulled.stdout).not.toContain("Image is up to date");
    expect(layerGets()).toHaveLength(base.manifest.layers.length);
  }, 60_000);

  it("run of an image on a lazy base fetches its layers, verified, and runs it", async () => {
    await buildIn("lazy-run", `FROM ${host}/lazy/base:1\nENV R=1\n`, "r:1");
    proxy.log.length = 0;
    const r = await cli("lazy-run", [
      ...["run", "--network", "none", "-v", "/bin/busybox:/busybox:ro", "--entrypoint", "/busybox"],
      ...["r:1", "sh", "-c", 'grep ^app: /etc/passwd && echo "R=$R" && wc -c < /usr/big.bin'],
    ]);
    expect(r.stdout).toBe("app:x:1000:1000::/home/app:/bin/sh\nR=1\n200000\n");
    expect(layerGets().sort()).toEqual(
      base.manifest.layers.map((l) => `GET /v2/lazy/base/blobs/${l.digest}`).sort(),
    );
  }, 60_000);

  it("push of a lazy image to another registry streams the base layers through from their registry, verified, storing nothing", async () => {
    const other = await startRegistry();
    try {
      await buildIn("cross", `FROM ${host}/lazy/base:1\nCOPY --link f.txt /x/\n`, `${other.host}/far/out:1`);
      proxy.log.length = 0;
      await cli("cross", ["push", `${other.host}/far/out:1`]);
      expect(layerGets().sort()).toEqual(
        base.manifest.layers.map((l) => `GET /v2/lazy/base/blobs/${l.digest}`).sort(),
      );
      await opened("cross", async (s) => {
        for (const l of base.manifest.layers) expect(await s.layout.hasBlob(l.digest)).toBe(false);
      });
      // What arrived there is whole: it pulls back into an empty store, verified.
      await cli("cross-check", ["pull", `${other.host}/far/out:1`]);
    } finally {
      await other.stop();
    }
  }, 60_000);

  it("a base whose blobs the registry then loses still builds and pushes by mount; save says where it could not fetch from", async () => {
    try {
      // The first build resolves the base (manifest and config); then the registry loses every blob's data.
      await buildIn("lost", `FROM ${host}/lazy/base:1\nLABEL only=metadata\n`, `${host}/lazy/first:1`);
      proxy.loseBlobs = true;
      proxy.log.length = 0;
      await buildIn(
        "lost",
        `FROM ${host}/lazy/base:1\nCOPY --link f.txt /srv/\nENV B=2\n`,
        `${host}/lazy/lost:1`,
      );
      await cli("lost", ["push", `${host}/lazy/lost:1`]);
      expect(layerGets()).toEqual([]);
      expect(proxy.log.filter((l) => l.startsWith("POST /v2/lazy/lost/blobs/uploads/?mount="))).toHaveLength(
        2,
      );
      const save = await runCli(["save", "-o", join(dir, "lost.tar"), `${host}/lazy/lost:1`], {
        env: env("lost"),
      });
      expect(save.code).toBe(1);
      expect(save.stderr).toContain(`could not be fetched from ${host}/lazy/base`);
      // The push is complete: once the data is back, the image pulls whole.
      proxy.loseBlobs = false;
      await cli("check", ["pull", `${host}/lazy/lost:1`]);
    } finally {
      proxy.loseBlobs = false;
    }
  }, 60_000);

  it("COPY (not --link) needs the base's file index: it fetches the layers, verified, and builds what a pulled base builds", async () => {
    const df = `FROM ${host}/lazy/base:1\nCOPY f.txt /etc/copied/\nWORKDIR /usr/work\n`;
    proxy.log.length = 0;
    await buildIn("copy-lazy", df, "out:copy");
    expect(layerGets().sort()).toEqual(
      base.manifest.layers.map((l) => `GET /v2/lazy/base/blobs/${l.digest}`).sort(),
    );
    await cli("copy-pulled", ["pull", `${host}/lazy/base:1`]);
    await buildIn("copy-pulled", df, "out:copy");
    const [lazy, pulled] = await Promise.all(
      ["copy-lazy", "copy-pulled"].map((s) => opened(s, (st) => st.resolve("out:copy"))),
    );
    expect(lazy!.config).toEqual(pulled!.config);
    expect(lazy!.manifest).toEqual(pulled!.manifest);
    expect(lazy!.manifestDigest).toBe(pulled!.manifestDigest);
  }, 60_000);

  it("build(): the base layers a COPY fetches are that step's progress events, up to their sizes", async () => {
    const store = await ImageStore.open({ root: join(dir, "events-lazy") });
    const client = createRegistryClient({ env: { ...process.env, DOCKER_CONFIG: join(dir, "docker") } });
    try {
      const handle = build({
        store,
        client,
        dockerfile: `FROM ${host}/lazy/base:1\nCOPY f.txt /etc/copied/\n`,
        contextDir: ctx,
      });
      const events: BuildEvent[] = [];
      for await (const e of handle) events.push(e);
      await handle.result;
      const copy = events.find((e) => e.type === "step" && e.text.startsWith("COPY"))!;
      const progress = events.filter((e) => e.type === "progress");
      const total = base.manifest.layers.reduce((n, l) => n + l.size, 0);
      expect(progress.length).toBeGreaterThan(0);
      for (const p of progress) expect(p.id).toBe((copy as { id: number }).id);
      const currents = progress.map((p) => p.current);
      expect(currents).toEqual([...currents].sort((a, b) => a - b));
      expect(progress.at(-1)).toMatchObject({ current: total, total });
    } finally {
      await client.close();
      await store.close();
    }
  }, 60_000);
});
