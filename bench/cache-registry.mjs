#!/usr/bin/env node
// bench/cache-registry.mjs — a CI runner with an empty disk building from the registry cache: the
// shared harness's copy-tree scenario (busybox, WORKDIR, COPY of 20,000 files / 150 MB, ENV, LABEL, CMD)
// is built cold once with `--cache-to type=registry,...` and `--push`; then, REPEAT times, a fresh store
// runs `build --cache-from type=registry,... --push` with nothing changed (every step CACHED, no layer
// pulled, every layer mounted). Also a plain cold `build --push` on a fresh store, the ratio's base.
// Everything runs as `bin/tsbuild` processes against a docker-registry of its own (fresh port and
// storage); the base is the harness's busybox layout copied in with skopeo.
// Usage: pnpm build && node bench/cache-registry.mjs   (env: CTX=/tmp/tsbench/ctx/copy-tree,
//   BUSYBOX=/tmp/tsbench/oci/busybox, REPEAT=5)
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const bench = process.env.BENCH_DIR ?? "/tmp/tsbench";
const ctx = process.env.CTX ?? join(bench, "ctx/copy-tree");
const busybox = process.env.BUSYBOX ?? join(bench, "oci/busybox");
const repeat = Number(process.env.REPEAT ?? 5);
const bin = new URL("../bin/tsbuild", import.meta.url).pathname;
for (const p of [join(ctx, "Dockerfile"), join(busybox, "index.json")])
  if (!existsSync(p))
    throw new Error(`${p} is missing: run ../shared/bench/gen-contexts.sh copy-tree and base-images.sh`);

const work = await mkdtemp(join(tmpdir(), "tsbuild-bench-cache-"));
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

const port = await freePort();
const host = `127.0.0.1:${port}`;
const config = join(work, "registry.yml");
await writeFile(
  config,
  `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${work}/storage\nhttp:\n  addr: ${host}\n`,
);
const log = createWriteStream(join(work, "registry.log"));
await once(log, "open");
const registry = spawn("/usr/bin/docker-registry", ["serve", config], { stdio: ["ignore", log, log] });
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) break;
    } catch {}
    if (i > 200) throw new Error("docker-registry did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  await run("skopeo", [
    "copy",
    "--quiet",
    "--dest-tls-verify=false",
    `oci:${busybox}:latest`,
    `docker://${host}/library/busybox:latest`,
  ]);
  // The scenario's Dockerfile, its FROM pointed at this registry (beside the context, not in it).
  const df = join(work, "Dockerfile");
  await writeFile(
    df,
    (await readFile(join(ctx, "Dockerfile"), "utf8")).replace(
      /^FROM \S+/m,
      `FROM ${host}/library/busybox:latest`,
    ),
  );
  const epoch = ["--build-arg", "SOURCE_DATE_EPOCH=1700000000"];
  const cache = `type=registry,ref=${host}/bench/cache:copy-tree`;
  let n = 0;
  const build = async (args) => {
    const root = join(work, `store-${n++}`);
    const t0 = process.hrtime.bigint();
    // /usr/bin/time adds the CPU seconds (user + system, all threads): on a loaded machine the wall
    // time says more about the neighbours than about tsbuild.
    const times = join(work, "time");
    const r = await run(
      "/usr/bin/time",
      [
        "-o",
        times,
        "-f",
        "%U %S",
        process.execPath,
        ...(process.env.PROFILE && args.includes("--cache-from")
          ? ["--cpu-prof", "--cpu-prof-dir", process.env.PROFILE]
          : []),
        bin,
        "build",
        "--progress",
        "plain",
        "-f",
        df,
        ...epoch,
        ...args,
        ctx,
      ],
      { env: { ...process.env, TSBUILD_ROOT: root }, maxBuffer: 64 * 1024 * 1024 },
    );
    const s = seconds(t0);
    const [user, sys] = (await readFile(times, "utf8")).trim().split(/\s+/).slice(-2).map(Number);
    await rm(root, { recursive: true, force: true });
    return { s, cpu: user + sys, stderr: r.stderr };
  };

  const cold = await build(["-t", `${host}/bench/cold:1`, "--push"]);
  const exported = await build(["--cache-to", cache, "-t", `${host}/bench/app:1`, "--push"]);
  const warm = [];
  const warmCpu = [];
  for (let i = 0; i < repeat; i++) {
    const r = await build(["--cache-from", cache, "-t", `${host}/bench/app:1`, "--push"]);
    if (!/(\d+) steps, \1 cached/.test(r.stderr)) throw new Error(`not every step was CACHED:\n${r.stderr}`);
    warm.push(r.s);
    warmCpu.push(r.cpu);
    if (process.env.VERBOSE) process.stderr.write(r.stderr);
  }
  const m = median(warm);
  console.log(
    JSON.stringify({
      bench: "cache-registry",
      scenario: "copy-tree",
      cold_push_s: +cold.s.toFixed(3),
      cold_push_cpu_s: +cold.cpu.toFixed(3),
      cold_push_cache_to_s: +exported.s.toFixed(3),
      fresh_cache_from_push_s: warm.map((x) => +x.toFixed(3)),
      fresh_cache_from_push_median_s: +m.toFixed(3),
      ratio_to_cold: +(m / cold.s).toFixed(4),
      fresh_cache_from_push_cpu_s: warmCpu.map((x) => +x.toFixed(3)),
      cpu_ratio_to_cold: +(median(warmCpu) / cold.cpu).toFixed(4),
      load: loadavg().map((x) => +x.toFixed(2)),
    }),
  );
} finally {
  registry.kill("SIGTERM");
  await once(registry, "exit").catch(() => {});
  log.end();
  await rm(work, { recursive: true, force: true });
}
