#!/usr/bin/env node
// bench/layer.mjs — packs the copy-tree context into a gzip layer with tsbuild's
// createLayer and, in the same run, with `tar -c | gzip -6` (GNU tar), and prints
// MB/s for both. MB/s = regular-file bytes of the tree (150 MB for copy-tree) /
// wall seconds, so both tools are measured against the same number.
// Usage: pnpm build && node bench/layer.mjs   (env: CTX, REPEAT=3, LEVEL=6)
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { createLayer, walkDirectory } from "@tsbuild/oci";

const ctx = process.env.CTX ?? "/tmp/tsbench/ctx/copy-tree";
const repeat = Number(process.env.REPEAT ?? 3);
const level = Number(process.env.LEVEL ?? 6);
if (!existsSync(ctx)) {
  console.error(`${ctx} does not exist: run ../shared/bench/gen-contexts.sh copy-tree first`);
  process.exit(2);
}

const entries = await walkDirectory(ctx);
const bytes = entries.reduce((n, e) => n + (e.type === "file" ? (e.size ?? 0) : 0), 0);

// sh runs a pipeline under /usr/bin/time so its CPU seconds (all processes) are known.
function sh(cmd) {
  const timeFile = `/tmp/bench-layer-time-${process.pid}`;
  return new Promise((resolve, reject) => {
    const p = spawn("/usr/bin/time", ["-f", "%U %S", "-o", timeFile, "sh", "-c", cmd], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = 0;
    p.stdout.on("data", (c) => {
      out += c.length;
    });
    p.on("error", reject);
    p.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}`));
      const [u, s] = readFileSync(timeFile, "utf8").trim().split("\n").pop().split(" ").map(Number);
      rmSync(timeFile, { force: true });
      resolve({ size: out, cpu: u + s });
    });
  });
}

async function tsbuild(opts) {
  const c0 = process.cpuUsage();
  const l = createLayer({ dir: ctx }, { level, ...opts });
  for await (const _ of l.stream);
  const size = (await l.result).size;
  const c = process.cpuUsage(c0);
  return { size, cpu: (c.user + c.system) / 1e6 };
}

const variants = [
  { name: "tsbuild createLayer gzip (parallel blocks)", run: () => tsbuild({}) },
  { name: "tsbuild createLayer gzip, 1 block at a time", run: () => tsbuild({ concurrency: 1 }) },
  { name: "GNU tar -c | gzip -6", run: () => sh(`tar -c -C '${ctx}' . | gzip -${level}`) },
  { name: "tsbuild createLayer, no compression", run: () => tsbuild({ compression: "none" }) },
  { name: "GNU tar -c, no compression", run: () => sh(`tar -c -C '${ctx}' .`) },
];

await sh(`tar -c -C '${ctx}' . > /dev/null`); // warm the page cache for everyone
const samples = new Map(variants.map((v) => [v.name, []]));
const cpus = new Map(variants.map((v) => [v.name, []]));
const sizes = new Map();
for (let r = 0; r < repeat; r++) {
  for (const v of variants) {
    const t0 = process.hrtime.bigint();
    const { size, cpu } = await v.run();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    samples.get(v.name).push(seconds);
    cpus.get(v.name).push(cpu);
    sizes.set(v.name, size);
    console.log(
      JSON.stringify({
        bench: "layer",
        variant: v.name,
        run: r,
        seconds: +seconds.toFixed(3),
        mb_per_s: +(bytes / 1e6 / seconds).toFixed(1),
        cpu_seconds: +cpu.toFixed(2),
        output_bytes: size,
        source_bytes: bytes,
        level,
        loadavg: +loadavg()[0].toFixed(2),
      }),
    );
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `\ncopy-tree: ${entries.length} entries, ${bytes} file bytes, gzip level ${level}, ${repeat} runs, medians`,
);
const pad = (x, n) => String(x).padStart(n);
console.log(
  `${"variant".padEnd(46)} ${pad("seconds", 8)} ${pad("MB/s", 7)} ${pad("best MB/s", 10)} ${pad("CPU s", 6)} ${pad("output bytes", 13)}`,
);
for (const v of variants) {
  const s = median(samples.get(v.name));
  const best = Math.min(...samples.get(v.name));
  const mbps = (t) => (bytes / 1e6 / t).toFixed(1);
  console.log(
    `${v.name.padEnd(46)} ${pad(s.toFixed(2), 8)} ${pad(mbps(s), 7)} ${pad(mbps(best), 10)} ${pad(median(cpus.get(v.name)).toFixed(1), 6)} ${pad(sizes.get(v.name), 13)}`,
  );
}
console.log(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")} on ${availableParallelism()} CPUs`,
);
