#!/usr/bin/env node
// bench/layer.mjs — packs the copy-tree context into a gzip layer with tsbuild's
// createLayer and, in the same run, with `tar -c | gzip -6` (GNU tar), and prints
// MB/s for both. MB/s = regular-file bytes of the tree (150 MB for copy-tree) /
// wall seconds, so both tools are measured against the same number.
// Usage: pnpm build && node bench/layer.mjs   (env: CTX, REPEAT=3, LEVEL=6)
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
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

function sh(cmd) {
  return new Promise((resolve, reject) => {
    const p = spawn("sh", ["-c", cmd], { stdio: ["ignore", "pipe", "inherit"] });
    let out = 0;
    p.stdout.on("data", (c) => {
      out += c.length;
    });
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

async function tsbuild(opts) {
  const l = createLayer({ dir: ctx }, { level, ...opts });
  for await (const _ of l.stream);
  return (await l.result).size;
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
const sizes = new Map();
for (let r = 0; r < repeat; r++) {
  for (const v of variants) {
    const t0 = process.hrtime.bigint();
    const size = await v.run();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    samples.get(v.name).push(seconds);
    sizes.set(v.name, size);
    console.log(
      JSON.stringify({
        bench: "layer",
        variant: v.name,
        run: r,
        seconds: +seconds.toFixed(3),
        mb_per_s: +(bytes / 1e6 / seconds).toFixed(1),
        output_bytes: size,
        source_bytes: bytes,
        level,
      }),
    );
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `\ncopy-tree: ${entries.length} entries, ${bytes} file bytes, gzip level ${level}, ${repeat} runs, medians`,
);
console.log(
  `${"variant".padEnd(46)} ${"seconds".padStart(8)} ${"MB/s".padStart(7)} ${"output bytes".padStart(13)}`,
);
for (const v of variants) {
  const s = median(samples.get(v.name));
  console.log(
    `${v.name.padEnd(46)} ${s.toFixed(2).padStart(8)} ${(bytes / 1e6 / s).toFixed(1).padStart(7)} ${String(sizes.get(v.name)).padStart(13)}`,
  );
}
