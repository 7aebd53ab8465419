import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CACHE_CONFIG_TYPE, INLINE_CACHE_FIELD } from "@tsbuild/builder";
import { ImageStore, type StoredImage } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../packages/cli/src/testing.js";
import { type CountingProxy, startCountingProxy } from "./support/counting-proxy.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/**
 * The registry build cache (issue 12) between two runners with empty stores: runner A builds, pushes and
 * exports its cache; runner B imports it and rebuilds with every step CACHED, downloading no layer, and
 * pushes by mounting every layer. Every request goes through a counting proxy in front of the real
 * docker-registry, so what B fetched and sent is counted, not assumed.
 */
describe("registry build cache between fresh runners", () => {
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
  const opened = async <T>(store: string, fn: (s: ImageStore) => Promise<T>) => {
    const s = await ImageStore.open({ root: join(dir, store) });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };
  const fetchJson = async (path: string, accept: string) => {
    const res = await fetch(`${registry.url}${path}`, { headers: { accept } });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startCountingProxy(registry.url);
    host = proxy.host;
    dir = await tempDir("tsbuild-regcache-");
    ctx = join(dir, "ctx");
    await mkdir(join(ctx, "src"), { recursive: true });
    await writeFile(join(ctx, "src", "a.txt"), "alpha\n");
    await writeFile(join(ctx, "src", "b.txt"), "beta\n");
    await writeFile(join(ctx, "big.bin"), Buffer.alloc(300_000, 3));
    base = await opened("seed", (s) =>
      makeTestImage(s, {
        layers: [
          fileLayer("etc", { passwd: "root:x:0:0::/root:/bin/sh\n" }),
          fileLayer("usr", { "tool.bin": Buffer.alloc(100_000, 9) }),
        ],
        names: [`${host}/rc/base:1`],
        docker: true,
      }),
    );
    await cli("seed", ["push", `${host}/rc/base:1`]);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runner B imports A's cache: every step CACHED, no layer pulled, every layer mounted on push", async () => {
    const df = `FROM ${host}/rc/base:1\nWORKDIR /app\nCOPY src/ ./src/\nCOPY --link big.bin /data/\nENV MODE=prod\nCMD ["sh"]\n`;
    await writeFile(join(ctx, "Dockerfile"), df);
    const cache = `${host}/rc/cache:main`;
    const common = ["build", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "--progress", "plain"];
    const a = await cli("A", [
      ...common,
      "--cache-to",
      `type=registry,ref=${cache}`,
      "-t",
      `${host}/rc/app:a`,
      "--push",
      ctx,
    ]);
    // The summary counts the steps that make layers (WORKDIR, COPY, COPY --link), as BuildKit shows them.
    expect(a.stderr).toContain(": 3 steps, 0 cached, 3 run\n");
    expect(a.stderr).not.toContain("WARNING");

    // The cache is an OCI index over one manifest whose config holds the records and whose layers are
    // the three layers the steps made (WORKDIR, COPY, COPY --link); ENV and CMD are records without one.
    const index = await fetchJson("/v2/rc/cache/manifests/main", "application/vnd.oci.image.index.v1+json");
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const [child] = index.manifests as { digest: string; artifactType: string }[];
    expect(child!.artifactType).toBe(CACHE_CONFIG_TYPE);
    const manifest = await fetchJson(
      `/v2/rc/cache/manifests/${child!.digest}`,
      "application/vnd.oci.image.manifest.v1+json",
    );
    const built = await opened("A", (s) => s.resolve(`${host}/rc/app:a`));
    const ownLayers = built.manifest.layers.slice(base.manifest.layers.length).map((l) => l.digest);
    expect((manifest.layers as { digest: string }[]).map((l) => l.digest).sort()).toEqual(
      [...ownLayers].sort(),
    );
    const config = manifest.config as { mediaType: string; digest: string; size: number };
    expect(config.mediaType).toBe(CACHE_CONFIG_TYPE);
    const records = (await (await fetch(`${registry.url}/v2/rc/cache/blobs/${config.digest}`)).json()) as {
      records: { key: string; layer?: { digest: string } }[];
    };
    expect(records.records).toHaveLength(5);

    // Runner B: an empty store, the same build from the cache, pushed to another repository.
    proxy.log.length = 0;
    proxy.traffic.length = 0;
    const b = await cli("B", [
      ...common,
      "--cache-from",
      `type=registry,ref=${cache}`,
      "-t",
      `${host}/rc/other:b`,
      "--push",
      ctx,
    ]);
    expect(b.stderr).toContain(": 3 steps, 3 cached, 0 run\n");
    expect(b.stderr.match(/CACHED/g)).toHaveLength(3);
    const rebuilt = await opened("B", async (s) => {
      for (const l of built.manifest.layers) expect(await s.layout.hasBlob(l.digest)).toBe(false);
      return s.resolve(`${host}/rc/other:b`);
    });
    // The same image, byte for byte (SOURCE_DATE_EPOCH: the records' times are the same too).
    expect(rebuilt.manifestDigest).toBe(built.manifestDigest);

    // What B asked for: the base's manifest and config, the cache's index, manifest and records; no layer.
    const indexBytes = Buffer.from(JSON.stringify(index)).length;
    const expected = [
      "GET /v2/",
      "GET /v2/rc/base/manifests/1",
      `GET /v2/rc/base/blobs/${base.id}`,
      "GET /v2/rc/cache/manifests/main",
      `GET /v2/rc/cache/manifests/${child!.digest}`,
      `GET /v2/rc/cache/blobs/${config.digest}`,
      // push: every layer is looked for, then mounted from where it lives (base layers from the base's
      // repository, the cached steps' layers from the cache's); only the small config is uploaded.
      ...built.manifest.layers.flatMap((l) => [
        `HEAD /v2/rc/other/blobs/${l.digest}`,
        `POST /v2/rc/other/blobs/uploads/?mount=${encodeURIComponent(l.digest)}&from=${encodeURIComponent(
          ownLayers.includes(l.digest) ? "rc/cache" : "rc/base",
        )}`,
      ]),
      `HEAD /v2/rc/other/blobs/${built.id}`,
      "POST /v2/rc/other/blobs/uploads/",
      expect.stringMatching(/^PUT \/v2\/rc\/other\/blobs\/uploads\/[0-9a-f-]+$/),
      "PUT /v2/rc/other/manifests/b",
    ];
    expect(proxy.log).toHaveLength(expected.length);
    expect(proxy.log).toEqual(expect.arrayContaining(expected));
    expect(proxy.blobGets()).toEqual([
      `GET /v2/rc/base/blobs/${base.id}`,
      `GET /v2/rc/cache/blobs/${config.digest}`,
    ]);
    const sum = (k: "up" | "down") => proxy.traffic.reduce((n, t) => n + t[k], 0);
    const childBytes = Buffer.from(JSON.stringify(manifest)).length;
    // Down: `{}` from /v2/, then exactly the two manifests' and five documents' bytes.
    expect(sum("down")).toBe(
      2 + base.descriptor.size + base.manifest.config.size + indexBytes + childBytes + config.size,
    );
    // Up: the image config and the manifest, nothing else.
    expect(sum("up")).toBe(built.manifest.config.size + built.descriptor.size);
  }, 120_000);
  const records = async (repo: string, tag: string) => {
    const index = await fetchJson(`/v2/${repo}/manifests/${tag}`, "application/vnd.oci.image.index.v1+json");
    const [child] = index.manifests as { digest: string }[];
    const m = await fetchJson(
      `/v2/${repo}/manifests/${child!.digest}`,
      "application/vnd.oci.image.manifest.v1+json",
    );
    const cfg = m.config as { digest: string };
    return (
      (await (await fetch(`${registry.url}/v2/${repo}/blobs/${cfg.digest}`)).json()) as { records: unknown[] }
    ).records;
  };
  const epoch = ["--build-arg", "SOURCE_DATE_EPOCH=1700000000", "--progress", "plain"];

  it("mode=min exports the final stage's steps, mode=max every stage's; a COPY --from a cached stage fetches its layer from the cache", async () => {
    const df = `FROM ${host}/rc/base:1 AS build\nCOPY src/ /out/\nENV STAGE=build\nFROM ${host}/rc/base:1\nCOPY --from=build /out/a.txt /app/\n`;
    await writeFile(join(ctx, "Dockerfile"), df);
    await cli("M", [
      "build",
      ...epoch,
      "--cache-to",
      `type=registry,ref=${host}/rc/multi:min`,
      "--cache-to",
      `type=registry,ref=${host}/rc/multi:max,mode=max`,
      "-t",
      "multi:1",
      ctx,
    ]);
    expect(await records("rc/multi", "min")).toHaveLength(1);
    expect(await records("rc/multi", "max")).toHaveLength(3);
    const built = await opened("M", (s) => s.resolve("multi:1"));

    // min: the build stage runs again (its key is its inputs'), the final COPY is answered from the cache.
    const min = await cli("Mmin", [
      "build",
      ...epoch,
      "--cache-from",
      `${host}/rc/multi:min`,
      "-t",
      "multi:1",
      ctx,
    ]);
    expect(min.stderr).toContain(": 2 steps, 1 cached, 1 run\n");
    // max: every step is CACHED; the COPY --from reads the build stage's files, so that one layer is fetched
    // from the cache's repository (verified), and nothing else.
    proxy.log.length = 0;
    const max = await cli("Mmax", [
      "build",
      ...epoch,
      "--cache-from",
      `${host}/rc/multi:max`,
      "-t",
      "multi:1",
      ctx,
    ]);
    expect(max.stderr).toContain(": 2 steps, 2 cached, 0 run\n");
    const stageLayer = (await records("rc/multi", "max"))
      .map((r) => (r as { layer?: { digest: string } }).layer?.digest)
      .filter((d) => d !== undefined && d !== built.manifest.layers.at(-1)!.digest);
    expect(stageLayer).toHaveLength(1);
    const gets = proxy.blobGets().filter((g) => g !== `GET /v2/rc/multi/blobs/${stageLayer[0]}`);
    expect(proxy.blobGets()).toContain(`GET /v2/rc/multi/blobs/${stageLayer[0]}`);
    // The rest: the base's config and its layers (a stage's files include its base's), the records blob.
    expect(gets.sort()).toEqual(
      [
        `GET /v2/rc/base/blobs/${base.id}`,
        ...base.manifest.layers.map((l) => `GET /v2/rc/base/blobs/${l.digest}`),
        expect.stringMatching(/^GET \/v2\/rc\/multi\/blobs\/sha256:/),
      ].sort(),
    );
    for (const store of ["Mmin", "Mmax"])
      expect((await opened(store, (s) => s.resolve("multi:1"))).manifestDigest).toBe(built.manifestDigest);
  }, 120_000);

  it("type=local round trip: an OCI layout directory holds the same cache; a fresh store builds from it with every step CACHED", async () => {
    await writeFile(
      join(ctx, "Dockerfile"),
      `FROM ${host}/rc/base:1\nCOPY src/ /srv/\nCOPY --link big.bin /data/\nENV X=1\n`,
    );
    const cacheDir = join(dir, "local-cache");
    await cli("L1", ["build", ...epoch, "--cache-to", `type=local,dest=${cacheDir}`, "-t", "local:1", ctx]);
    const layout = JSON.parse(await readFile(join(cacheDir, "index.json"), "utf8"));
    expect(layout.manifests).toHaveLength(1);
    expect(layout.manifests[0]).toMatchObject({
      mediaType: "application/vnd.oci.image.index.v1+json",
      annotations: { "org.opencontainers.image.ref.name": "latest" },
    });
    const built = await opened("L1", (s) => s.resolve("local:1"));
    const own = built.manifest.layers.slice(base.manifest.layers.length);
    for (const l of own) expect(existsSync(join(cacheDir, "blobs", "sha256", l.digest.slice(7)))).toBe(true);

    proxy.log.length = 0;
    const r = await cli("L2", [
      "build",
      ...epoch,
      "--cache-from",
      `type=local,src=${cacheDir}`,
      "-t",
      "local:1",
      ctx,
    ]);
    expect(r.stderr).toContain(": 2 steps, 2 cached, 0 run\n");
    // The base still comes from its registry (lazily: config only); the cached layers from the directory.
    expect(proxy.blobGets()).toEqual([`GET /v2/rc/base/blobs/${base.id}`]);
    await opened("L2", async (s) => {
      expect((await s.resolve("local:1")).manifestDigest).toBe(built.manifestDigest);
      for (const l of own) expect(await s.layout.hasBlob(l.digest)).toBe(true);
    });
    // A second export to the same directory replaces the tag and keeps the layout whole.
    await cli("L2", ["build", ...epoch, "--cache-to", `type=local,dest=${cacheDir}`, "-t", "local:1", ctx]);
    expect(JSON.parse(await readFile(join(cacheDir, "index.json"), "utf8")).manifests).toHaveLength(1);
  }, 120_000);

  it("type=inline round trip: the records travel in the pushed image's config; --cache-from the image answers every step", async () => {
    await writeFile(join(ctx, "Dockerfile"), `FROM ${host}/rc/base:1\nCOPY src/ /inline/\nENV Y=2\n`);
    const ref = `${host}/rc/inline:1`;
    await cli("I1", ["build", ...epoch, "--cache-to", "type=inline", "-t", ref, "--push", ctx]);
    const built = await opened("I1", (s) => s.resolve(ref));
    const cfg = (await (await fetch(`${registry.url}/v2/rc/inline/blobs/${built.id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(cfg[INLINE_CACHE_FIELD]).toHaveLength(2);

    proxy.log.length = 0;
    const r = await cli("I2", [
      "build",
      ...epoch,
      "--cache-from",
      ref,
      "--cache-to",
      "type=inline",
      "-t",
      ref,
      ctx,
    ]);
    expect(r.stderr).toContain(": 1 step, 1 cached, 0 run\n");
    expect((await opened("I2", (s) => s.resolve(ref))).manifestDigest).toBe(built.manifestDigest);
    // The image's config (records) and the base's config: no layer.
    expect(proxy.blobGets().sort()).toEqual(
      [`GET /v2/rc/base/blobs/${base.id}`, `GET /v2/rc/inline/blobs/${built.id}`].sort(),
    );
  }, 120_000);

  it("an export that fails (registry gone) warns and the build still succeeds; a cache ref that does not exist yet is no error", async () => {
    await writeFile(join(ctx, "Dockerfile"), `FROM ${host}/rc/base:1\nENV Z=3\n`);
    const r = await cli("F", [
      "build",
      ...epoch,
      "--cache-from",
      `${host}/rc/nothing:yet`,
      "--cache-to",
      "type=registry,ref=127.0.0.1:9/rc/unreachable:1",
      "-t",
      "f:1",
      ctx,
    ]);
    expect(r.stderr).toContain("WARNING: exporting cache to 127.0.0.1:9/rc/unreachable:1 failed");
    expect(r.stderr).not.toContain("importing cache");
    await opened("F", (s) => s.resolve("f:1"));
  }, 120_000);
});
