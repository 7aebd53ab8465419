import { execFile } from "node:child_process";
import { readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ImageStore, type StoredImage } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../packages/cli/src/testing.js";
import { type CountingProxy, startCountingProxy } from "./support/counting-proxy.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "bin", "tsbuild");
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/**
 * wholeCache reads a cache ref straight from the registry and checks that everything it names is there:
 * the index, its manifests, their records blobs and layers. It returns the index digest and the records.
 */
async function wholeCache(
  url: string,
  repo: string,
  tag: string,
): Promise<{ digest: string; keys: string[] }> {
  const get = async (path: string, accept: string) => {
    const res = await fetch(`${url}/v2/${repo}/${path}`, { headers: { accept } });
    if (res.status !== 200) throw new Error(`GET ${repo}/${path}: ${res.status}`);
    return {
      json: (await res.json()) as Record<string, unknown>,
      digest: res.headers.get("docker-content-digest"),
    };
  };
  const head = async (digest: string) => {
    const res = await fetch(`${url}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
    if (res.status !== 200) throw new Error(`HEAD ${repo} blob ${digest}: ${res.status}`);
  };
  const index = await get(`manifests/${tag}`, OCI_INDEX);
  const keys: string[] = [];
  for (const m of index.json.manifests as { digest: string }[]) {
    const child = (await get(`manifests/${m.digest}`, OCI_MANIFEST)).json;
    const config = child.config as { digest: string };
    for (const l of child.layers as { digest: string }[]) await head(l.digest);
    const records = (await get(`blobs/${config.digest}`, "*/*")).json.records as { key: string }[];
    keys.push(...records.map((r) => r.key));
  }
  return { digest: index.digest ?? "", keys };
}

/** storedBlobs lists the digests whose data the registry keeps (its filesystem layout, one directory each). */
async function storedBlobs(storage: string): Promise<{ blobs: string[]; uploads: string[] }> {
  const root = join(storage, "docker", "registry", "v2");
  const blobs: string[] = [];
  const dir = join(root, "blobs", "sha256");
  for (const pre of await readdir(dir).catch(() => []))
    for (const hex of await readdir(join(dir, pre))) blobs.push(`sha256:${hex}`);
  const uploads: string[] = [];
  const repos = join(root, "repositories");
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory()) continue;
      if (e.name === "_uploads") uploads.push(...(await readdir(join(d, e.name))));
      else if (!e.name.startsWith("_")) await walk(join(d, e.name));
    }
  };
  await walk(repos);
  return { blobs: blobs.sort(), uploads };
}

/**
 * Many runners at once (issue 12): separate tsbuild processes, each with its own empty store, building the
 * same project against one registry and one cache ref; and a registry that restarts in the middle of a
 * cache export. The real docker-registry, its storage directory inspected afterwards.
 */
describe("CI runners sharing one registry cache", () => {
  let registry: TestRegistry;
  let dir: string;
  let ctx: string;
  let base: StoredImage;
  const epoch = "1700000000";
  const env = (store: string) => ({
    ...process.env,
    TSBUILD_ROOT: join(dir, "stores", store),
    DOCKER_CONFIG: join(dir, "docker"),
    SOURCE_DATE_EPOCH: epoch,
  });
  const opened = async <T>(store: string, fn: (s: ImageStore) => Promise<T>) => {
    const s = await ImageStore.open({ root: join(dir, "stores", store) });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };

  beforeAll(async () => {
    registry = await startRegistry();
    dir = await tempDir("tsbuild-runners-");
    ctx = join(dir, "ctx");
    await run("mkdir", ["-p", join(ctx, "lib", "deep", "er")]);
    for (let i = 0; i < 40; i++) await writeFile(join(ctx, "lib", `m${i}.js`), `module.exports = ${i};\n`);
    await writeFile(join(ctx, "lib", "deep", "er", "x.json"), "{}\n");
    await writeFile(join(ctx, "asset.bin"), Buffer.alloc(500_000, 5));
    await writeFile(
      join(ctx, "Dockerfile"),
      `FROM ${registry.host}/ci/base:1 AS deps\nCOPY lib/ /deps/lib/\nFROM ${registry.host}/ci/base:1\nWORKDIR /app\nCOPY --from=deps /deps/ ./\nCOPY --link asset.bin /app/asset.bin\nENV NODE_ENV=production\nCMD ["node", "/app/lib/m0.js"]\n`,
    );
    base = await opened("seed", (s) =>
      makeTestImage(s, {
        layers: [
          fileLayer("etc", { passwd: "root:x:0:0::/root:/bin/sh\n" }),
          fileLayer("usr", { "runtime.bin": Buffer.alloc(200_000, 1) }),
        ],
        names: [`${registry.host}/ci/base:1`],
        docker: true,
      }),
    );
    const pushed = await runCli(["push", `${registry.host}/ci/base:1`], { env: env("seed") });
    expect(pushed.code).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("eight processes with empty stores build at once: all succeed, one image digest, one copy of each blob, the cache ref always whole", async () => {
    const cache = `${registry.host}/ci/cache:main`;
    const image = `${registry.host}/ci/app:1`;
    const before = new Set((await storedBlobs(registry.storageDir)).blobs);
    // The cache ref is checked all along: whenever it exists, everything it names must be there.
    let watching = true;
    const broken: string[] = [];
    let seen = 0;
    let transient = 0;
    const watcher = (async () => {
      while (watching) {
        try {
          await wholeCache(registry.url, "ci/cache", "main");
          seen++;
        } catch (err) {
          const msg = (err as Error).message;
          // Not there yet is fine (before the first export); a 5xx is the registry's own race (its
          // filesystem driver rewrites a file in place while another runner puts the same bytes), not a
          // missing blob; anything named but missing is a broken ref.
          if (/: 5\d\d$/.test(msg)) transient++;
          else if (!/manifests\/main: 404/.test(msg)) broken.push(msg);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const runners = Array.from({ length: 8 }, (_, i) =>
      run(
        process.execPath,
        [
          BIN,
          "build",
          "--progress",
          "plain",
          "--build-arg",
          `SOURCE_DATE_EPOCH=${epoch}`,
          "--cache-from",
          `type=registry,ref=${cache}`,
          "--cache-to",
          `type=registry,ref=${cache},mode=max`,
          "-t",
          image,
          "--push",
          ctx,
        ],
        { env: env(`runner-${i}`), maxBuffer: 16 * 1024 * 1024 },
      ).catch((err: Error & { stderr?: string }) => {
        throw new Error(`runner ${i}: ${err.message}\n${err.stderr ?? ""}`);
      }),
    );
    const results = await Promise.all(runners);
    watching = false;
    await watcher;
    expect(broken).toEqual([]);
    expect(seen).toBeGreaterThan(0);
    expect(transient).toBeLessThan(seen);

    // Same image from every runner: each printed the same pushed digest.
    const digests = results.map((r) => /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1]);
    expect(new Set(digests).size).toBe(1);
    expect(digests[0]).toBeDefined();
    // A runner may lose a race to export the cache (a warning: its build still succeeded, and the ref
    // stays whole, checked above and below); any other warning fails.
    for (const r of results) {
      const warnings = r.stderr.split("\n").filter((l) => l.includes("WARNING"));
      const other = warnings.filter((l) => !l.includes(`exporting cache to ${cache} failed`));
      if (warnings.length > 0) console.log(`runner warnings:\n${warnings.join("\n")}`);
      expect(other).toEqual([]);
    }
    expect(results.filter((r) => r.stderr.includes("WARNING")).length).toBeLessThan(results.length);
    const built = await opened("runner-0", (s) => s.resolve(image));
    expect(built.manifestDigest).toBe(digests[0]);

    // The cache: whole, every step of both stages (max), the same records whoever exported last.
    const final = await wholeCache(registry.url, "ci/cache", "main");
    expect(final.keys).toHaveLength(6);

    // One copy of each blob: the registry holds exactly the image's and the cache's blobs beside the
    // base's (non-reproducible layers or records would show up here as extra blobs), and no upload is
    // left behind in any repository.
    const res = await fetch(`${registry.url}/v2/ci/cache/manifests/main`, { headers: { accept: OCI_INDEX } });
    const index = (await res.json()) as { manifests: { digest: string }[] };
    const child = (await (
      await fetch(`${registry.url}/v2/ci/cache/manifests/${index.manifests[0]!.digest}`, {
        headers: { accept: OCI_MANIFEST },
      })
    ).json()) as { config: { digest: string }; layers: { digest: string }[] };
    const expected = new Set([
      ...before,
      built.manifestDigest,
      built.id,
      ...built.manifest.layers.map((l) => l.digest),
      final.digest,
      index.manifests[0]!.digest,
      child.config.digest,
      ...child.layers.map((l) => l.digest),
    ]);
    const after = await storedBlobs(registry.storageDir);
    expect(after.blobs).toEqual([...expected].sort());
    expect(after.uploads).toEqual([]);
    // The deps stage's layer is in the cache (max) but not in the image.
    expect(child.layers.length).toBe(built.manifest.layers.length - base.manifest.layers.length + 1);
  }, 300_000);

  it("the registry restarts in the middle of a cache export: that build succeeds with a warning, the ref stays whole, the next build succeeds and re-exports", async () => {
    let proxy: CountingProxy | undefined;
    try {
      proxy = await startCountingProxy(registry.url);
      const host = proxy.host;
      const cache = `${host}/ci/faulty:main`;
      const cli = (store: string, extra: string[]) =>
        runCli(
          [
            "build",
            "--progress",
            "plain",
            "--build-arg",
            `SOURCE_DATE_EPOCH=${epoch}`,
            "--cache-from",
            cache,
            "--cache-to",
            `type=registry,ref=${cache},mode=max`,
            ...extra,
            "-t",
            "fault:1",
            ctx,
          ],
          { env: env(store) },
        );
      const first = await cli("fault-1", []);
      expect(first.code).toBe(0);
      const old = await wholeCache(registry.url, "ci/faulty", "main");

      // Change an input: the next export has new layers and records to write. The registry is killed as
      // the first new blob upload into the cache repository starts, and comes back 6 s later (longer than
      // the client's retries), with the same storage.
      await writeFile(join(ctx, "lib", "m7.js"), "module.exports = 'seven';\n");
      let restart: Promise<void> | undefined;
      proxy.onRequest = (line) => {
        if (restart === undefined && line.startsWith("POST /v2/ci/faulty/blobs/uploads/")) {
          restart = registry.restart({ downMs: 6000 });
          return "drop";
        }
        return undefined;
      };
      const second = await cli("fault-2", []);
      proxy.onRequest = undefined;
      expect(restart).toBeDefined();
      await restart;
      expect(second.stderr).toContain(`WARNING: exporting cache to ${cache} failed`);
      expect(second.code).toBe(0);
      // Nothing of the interrupted export is visible: the ref is the old cache, whole.
      expect(await wholeCache(registry.url, "ci/faulty", "main")).toEqual(old);

      // A fresh runner: the unchanged steps come from the old cache, the changed ones run; its export is whole.
      const third = await cli("fault-3", []);
      expect(third.code).toBe(0);
      expect(third.stderr).not.toContain("WARNING");
      // 4 steps: COPY in deps, then WORKDIR, COPY --from, COPY --link (ENV and CMD are no step, as in BuildKit).
      expect(third.stderr).toMatch(/: 4 steps, [1-3] cached, [1-3] run\n/);
      const now = await wholeCache(registry.url, "ci/faulty", "main");
      expect(now.digest).not.toBe(old.digest);
      expect(now.keys).toHaveLength(6);
      // And it serves: one more fresh runner is answered entirely from it.
      const fourth = await cli("fault-4", []);
      expect(fourth.stderr).toContain(": 4 steps, 4 cached, 0 run\n");
    } finally {
      await writeFile(join(ctx, "lib", "m7.js"), "module.exports = 7;\n");
      await proxy?.close();
    }
  }, 300_000);
});
