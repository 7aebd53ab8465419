import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CACHE_CONFIG_TYPE } from "@tsbuild/builder";
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
    expect(a.stderr).toContain("(5 steps, 0 cached)");
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
    expect(b.stderr).toContain("(5 steps, 5 cached)");
    expect(b.stderr.match(/CACHED/g)).toHaveLength(5);
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
});
