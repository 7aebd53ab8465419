#!/usr/bin/env node
// bench/run-overhead.mjs — what one RUN step costs beyond its command: runStep of
// `echo hi > /etc/x` on a busybox rootfs (sandbox setup, overlay mount, runc run,
// upper-dir diff, cleanup), beside a bare `runc run` of the same command on a plain
// directory (the floor no RUN can go under), per snapshotter, as whoever runs it
// (root, or rootless as an ordinary user with /etc/subuid ranges).
// Usage: pnpm build && node bench/run-overhead.mjs   (env: REPEAT=15, KINDS=overlay,copy)
import { execFileSync, spawnSync } from "node:child_process";
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runStep, UnpackedLayers } from "@tsbuild/builder";
import { createLayer } from "@tsbuild/oci";

const repeat = Number(process.env.REPEAT ?? 15);
const kinds = (process.env.KINDS ?? "overlay,copy").split(",");
const work = await mkdtemp(join(tmpdir(), "tsbuild-bench-run-"));

const size = Number(execFileSync("stat", ["-c", "%s", "/usr/bin/busybox"], { encoding: "utf8" }));
const entries = [
  { path: "bin", type: "dir" },
  { path: "bin/busybox", type: "file", mode: 0o755, content: { file: "/usr/bin/busybox" }, size },
  { path: "bin/sh", type: "symlink", linkname: "busybox" },
  { path: "etc", type: "dir" },
  { path: "etc/passwd", type: "file", content: "root:x:0:0:root:/root:/bin/sh\n" },
];
const { stream, result } = createLayer({ entries });
const chunks = [];
for await (const c of stream) chunks.push(c);
writeFileSync(join(work, "base.tar.gz"), Buffer.concat(chunks));
const diffId = (await result).diffId;
const lower = await new UnpackedLayers(join(work, "layers")).ensure(diffId, undefined, async () =>
  createReadStream(join(work, "base.tar.gz")),
);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The floor: `runc run` alone (root only: rootless it needs the namespace runStep makes).
let floor;
if (process.getuid() === 0) {
  const bundle = join(work, "bundle");
  mkdirSync(bundle);
  execFileSync("runc", ["spec", "--bundle", bundle]);
  const spec = JSON.parse(execFileSync("cat", [join(bundle, "config.json")], { encoding: "utf8" }));
  spec.process.terminal = false;
  spec.process.args = ["/bin/sh", "-c", "echo hi > /tmp-x"];
  spec.root = { path: lower, readonly: false };
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  const times = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    spawnSync("runc", ["--root", join(work, "state"), "run", "--bundle", bundle, `b${i}`], {
      stdio: "ignore",
    });
    times.push(performance.now() - t);
  }
  floor = median(times);
  execFileSync("rm", ["-f", join(lower, "tmp-x")]);
}

console.log(
  `RUN overhead, ${process.getuid() === 0 ? "root" : "rootless"}, median of ${repeat}, load ${loadavg()[0].toFixed(1)}`,
);
if (floor !== undefined) console.log(`  runc run alone            ${floor.toFixed(0).padStart(5)} ms`);
for (const kind of kinds) {
  const total = [];
  const clean = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    const r = await runStep({
      lowerDirs: [lower],
      args: ["/bin/sh", "-c", "echo hi > /etc/x"],
      env: [],
      cwd: "/",
      user: "",
      network: "default",
      snapshotter: kind,
      tmpDir: work,
    });
    const t2 = performance.now();
    if (r.entries.length !== 2) throw new Error(`unexpected diff: ${r.entries.map((e) => e.path)}`);
    await r.cleanup();
    total.push(t2 - t);
    clean.push(performance.now() - t2);
  }
  const m = median(total);
  console.log(
    `  runStep (${kind})`.padEnd(28) +
      `${m.toFixed(0).padStart(5)} ms` +
      (floor !== undefined ? `  (+${(m - floor).toFixed(0)} ms over runc)` : "") +
      `, cleanup ${median(clean).toFixed(0)} ms`,
  );
}
await rm(work, { recursive: true, force: true });
