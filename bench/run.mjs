#!/usr/bin/env node
// bench/run.mjs — `pnpm bench`: every benchmark of the project, then the report.
//   1. the micro-benchmarks of bench/ (hash/gzip, parse, plan, layer packing vs tar|gzip, push/pull vs
//      skopeo, registry client overhead, RUN overhead, start-up), each with its own defaults, their
//      output kept in the results directory;
//   2. the peer comparison of ../shared/bench (run-all.sh: BuildKit through a dockerd the harness starts,
//      buildah, tsbuild; five scenarios; cold, warm and push) with TSBUILD=bin/tsbuild and REPEAT=3;
//   3. bench/report.mjs: bench/RESULTS.md and bench/results/ratios.png from those results.
// While it runs, the load average is sampled every 15 s (the machine is shared; the report says so).
//
// Usage: pnpm bench                    everything (needs root: runc, dockerd, buildah; ~35 min on 2 cores)
//        pnpm bench --micro            only the micro-benchmarks (and the report, if peer results exist)
//        pnpm bench --peers            only the peer comparison (and the report)
// Env:   REPEAT=3 (peer repeats), SCENARIOS="copy-small ..." (default all five), TOOLS (run-all.sh's,
//        default "buildah docker tsbuild"), DRIVERS=overlay (buildah storage drivers; add vfs for the
//        slow one), BENCH_DIR=/tmp/tsbench (the harness's work dir), SHARED_BENCH (default
//        ../shared/bench), RESULTS_DIR (continue that results directory instead of a new one),
//        MICRO="hash-gzip parse ..." (which micro-benchmarks), MICRO_REPEAT (their
//        REPEAT; each script's own default otherwise) and whatever else each script reads.
// Results go to bench/results/<UTC stamp>/ (peers.jsonl, micro/*.log, machine.json, load.jsonl); the
// report is written from the newest complete one.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const doMicro = !args.has("--peers") || args.has("--micro");
const doPeers = !args.has("--micro") || args.has("--peers");
const benchDir = process.env.BENCH_DIR ?? "/tmp/tsbench";
const shared = [process.env.SHARED_BENCH, join(repo, "../shared/bench"), "/work/shared/bench"]
  .filter(Boolean)
  .find((d) => existsSync(join(d, "run-all.sh")));

/** MICRO lists the micro-benchmarks in the order they run, with what each needs. */
const MICRO = [
  { name: "hash-gzip", cmd: ["node", "bench/hash-gzip.mjs"] },
  { name: "parse", cmd: ["node", "bench/parse.mjs"] },
  { name: "plan", cmd: ["node", "bench/plan.mjs"] },
  { name: "registry-transport", cmd: ["node", "bench/registry-transport.mjs"] },
  { name: "layer", cmd: ["node", "bench/layer.mjs"], copyTree: true },
  { name: "pull-push", cmd: ["node", "bench/pull-push.mjs"], copyTree: true },
  { name: "run-overhead", cmd: ["node", "bench/run-overhead.mjs"] },
  { name: "startup", cmd: ["bash", "bench/startup.sh"] },
];

function log(msg) {
  console.error(`[${new Date().toISOString().slice(11, 19)} bench] ${msg}`);
}

function sh(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", ...options });
  return r.status === 0 ? r.stdout.trim() : "";
}

/** need installs the Debian packages the benchmarks use that are missing (as the harness's README lists). */
function need() {
  const pkgs = { buildah: "buildah", hyperfine: "hyperfine", jq: "jq", python3: "python3", skopeo: "skopeo" };
  const missing = Object.entries(pkgs)
    .filter(([tool]) => sh("sh", ["-c", `command -v ${tool}`]) === "")
    .map(([, pkg]) => pkg);
  if (missing.length > 0) {
    log(`installing ${missing.join(" ")} with apt-get`);
    spawnSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"] });
    const r = spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (r.status !== 0) throw new Error(`apt-get install ${missing.join(" ")} failed`);
  }
  // docker.io (Debian's 20.10), without starting the system's daemon: the harness starts its own.
  if (spawnSync("bash", [join(repo, "scripts/dockerd.sh"), "install"], { stdio: "inherit" }).status !== 0)
    throw new Error("installing docker.io failed");
}

/** machine describes where the numbers come from. */
function machine() {
  const os = readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? "";
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    mem_bytes: totalmem(),
    kernel: sh("uname", ["-r"]),
    os,
    node: process.version,
    commit: sh("git", ["-C", repo, "rev-parse", "--short", "HEAD"]),
    load_at_start: loadavg(),
  };
}

/** run spawns a command with its output going to our stderr and to `logFile`; resolves its exit code. */
function run(cmd, argv, { env, logFile, logStream, stdoutFile } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, argv, { cwd: repo, env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const logOut = logStream ?? (logFile ? createWriteStream(logFile) : undefined);
    const out = stdoutFile ? createWriteStream(stdoutFile, { flags: "a" }) : undefined;
    child.stdout.on("data", (c) => {
      process.stderr.write(c);
      logOut?.write(c);
      out?.write(c);
    });
    child.stderr.on("data", (c) => {
      process.stderr.write(c);
      logOut?.write(c);
    });
    child.on("close", (code) => {
      if (!logStream) logOut?.end();
      out?.end();
      resolvePromise(code ?? 1);
    });
  });
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error("the benchmarks run runc, dockerd and buildah: run as root");
  if (doPeers && !shared)
    throw new Error("the peer harness is missing: put it at ../shared/bench or set SHARED_BENCH");
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  // RESULTS_DIR continues a run (e.g. --peers after an earlier --micro): its machine.json stays, the load log grows.
  const out = process.env.RESULTS_DIR ? resolve(process.env.RESULTS_DIR) : join(repo, "bench/results", stamp);
  mkdirSync(join(out, "micro"), { recursive: true });
  log(`results in ${out}`);
  need();
  if ((await run("pnpm", ["build"])) !== 0) throw new Error("pnpm build failed");
  if (!existsSync(join(out, "machine.json")))
    writeFileSync(join(out, "machine.json"), `${JSON.stringify(machine(), null, 2)}\n`);

  const loadLog = createWriteStream(join(out, "load.jsonl"), { flags: "a" });
  const sample = () => {
    const [l1, l5, l15] = loadavg();
    loadLog.write(`${JSON.stringify({ ts: new Date().toISOString(), load1: l1, load5: l5, load15: l15 })}\n`);
  };
  sample();
  const timer = setInterval(sample, 15_000);
  const env = { ...process.env, BENCH_DIR: benchDir };
  const failed = [];
  try {
    if (doMicro) {
      const only = process.env.MICRO?.split(/\s+/).filter(Boolean);
      const microEnv = { ...env };
      // The peer REPEAT is not the micro-benchmarks' (each has its own default; MICRO_REPEAT overrides).
      delete microEnv.REPEAT;
      if (process.env.MICRO_REPEAT) microEnv.REPEAT = process.env.MICRO_REPEAT;
      const ctx = join(benchDir, "ctx/copy-tree");
      for (const m of MICRO.filter((m) => !only || only.includes(m.name))) {
        if (m.copyTree && !existsSync(join(ctx, "Dockerfile")) && shared) {
          log("making the copy-tree context for the layer and pull/push benchmarks");
          await run("bash", [join(shared, "gen-contexts.sh"), "copy-tree"], { env });
        }
        log(`micro: ${m.name}`);
        const t0 = performance.now();
        const code = await run(m.cmd[0], m.cmd.slice(1), {
          env: { ...microEnv, CTX: ctx },
          logFile: join(out, "micro", `${m.name}.log`),
        });
        const seconds = (performance.now() - t0) / 1000;
        writeFileSync(
          join(out, "micro", `${m.name}.json`),
          `${JSON.stringify({ name: m.name, command: m.cmd.join(" "), code, seconds })}\n`,
        );
        if (code !== 0) failed.push(`micro ${m.name} (exit ${code})`);
      }
    }
    if (doPeers) {
      const scenarios = process.env.SCENARIOS?.split(/\s+/).filter(Boolean) ?? [];
      const peerEnv = {
        ...env,
        TSBUILD: join(repo, "bin/tsbuild"),
        DRIVERS: process.env.DRIVERS ?? "overlay",
        TOOLS: process.env.TOOLS ?? "buildah docker tsbuild",
        OUT: join(out, "peers.jsonl"),
      };
      // REPEAT passes of run-all.sh with REPEAT=1 each, rather than one with REPEAT=N (which repeats a
      // scenario N times before the next): every scenario gets a sample per pass, so the load's drift
      // over the run spreads over all cells, and a run cut short still covers every scenario.
      const repeat = Number(process.env.REPEAT ?? 3);
      log(`peers: ${repeat} passes, TOOLS="${peerEnv.TOOLS}" DRIVERS="${peerEnv.DRIVERS}"`);
      const peersLog = createWriteStream(join(out, "peers.log"), { flags: "a" });
      for (let pass = 1; pass <= repeat; pass++) {
        log(`peers: pass ${pass}/${repeat}`);
        const code = await run("bash", [join(shared, "run-all.sh"), ...scenarios], {
          env: { ...peerEnv, REPEAT: "1" },
          logStream: peersLog,
        });
        if (code !== 0) failed.push(`peers pass ${pass} (run-all.sh exit ${code})`);
      }
      peersLog.end();
    }
  } finally {
    clearInterval(timer);
    sample();
    loadLog.end();
  }
  writeFileSync(join(out, "done.json"), `${JSON.stringify({ ended: new Date().toISOString(), failed })}\n`);
  const code = await run("node", ["bench/report.mjs", out]);
  if (code !== 0) failed.push("report");
  if (failed.length > 0) {
    log(`failed: ${failed.join(", ")}`);
    process.exitCode = 1;
  } else log("done: bench/RESULTS.md");
}

main().catch((err) => {
  log(String(err?.message ?? err));
  process.exitCode = 1;
});
