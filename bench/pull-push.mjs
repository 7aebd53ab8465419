#!/usr/bin/env node
// bench/pull-push.mjs — times tsbuild's push and pull of a copy-tree-like image
// against a local docker-registry, next to skopeo in the same run.
//
// Image: a busybox base (the Debian busybox-static binary, its sh symlink,
// passwd/group, /tmp) plus one layer packing the copy-tree context's
// node_modules (~70 MB gzip), as the copy-tree scenario of ../shared/bench builds it.
//
// Per repeat, on a fresh registry (new port and storage, so no tool has a
// cache of it): push the base to library/busybox (not timed), then time
//   push  tsbuild pushImage → bench/tsbuild (base layers mounted from library/busybox)
//   push  skopeo copy oci:LAYOUT → bench/skopeo (the same image from an OCI layout)
//   pull  tsbuild pullImage bench/tsbuild → a fresh store
//   pull  skopeo copy docker://…/bench/tsbuild → oci:fresh-dir
// and print one JSON line per sample, then medians and tsbuild/skopeo ratios.
//
// Usage: pnpm build && node bench/pull-push.mjs
//   env: CTX (default /tmp/tsbench/ctx/copy-tree, from ../shared/bench/gen-contexts.sh),
//        REPEAT (default 3), KEEP=1 keeps the work directory.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createLayer, hostPlatform, ImageStore, MediaType, parseReference } from "@tsbuild/oci";
import { pullImage, pushImage, RegistryClient } from "@tsbuild/registry-client";

const run = promisify(execFile);
const ctx = process.env.CTX ?? "/tmp/tsbench/ctx/copy-tree";
const repeat = Number(process.env.REPEAT ?? 3);
if (!existsSync(join(ctx, "node_modules"))) {
  console.error(`${ctx}/node_modules does not exist: run ../shared/bench/gen-contexts.sh copy-tree first`);
  process.exit(2);
}

const work = await mkdtemp(join(tmpdir(), "tsbuild-bench-pushpull-"));
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** startRegistry runs docker-registry on a fresh port and storage; returns {host, stop}. */
async function startRegistry(name) {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const config = join(dir, "config.yml");
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/storage\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const log = createWriteStream(join(dir, "registry.log"));
  await once(log, "open");
  const child = spawn("/usr/bin/docker-registry", ["serve", config], { stdio: ["ignore", log, log] });
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (res.ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    stop: async () => {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
      log.end();
    },
  };
}

/** addLayer packs entries or a directory into the store; returns the descriptor and diff id. */
async function addLayer(store, source) {
  const { stream, result } = createLayer(source, { sourceDateEpoch: 0 });
  await store.writeBlob(stream);
  const r = await result;
  return { desc: { mediaType: MediaType.OciLayerGzip, digest: r.digest, size: r.size }, diffId: r.diffId };
}

async function addImage(store, layers, names, cmd) {
  const p = hostPlatform();
  const config = Buffer.from(
    JSON.stringify({
      architecture: p.architecture,
      os: p.os,
      config: { Cmd: cmd, WorkingDir: "/app" },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const c = await store.writeBlob(config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: c.digest, size: c.size },
    layers: layers.map((l) => l.desc),
  };
  return store.addImage({ manifest, names });
}

// Build the images once, in a source store.
const source = await ImageStore.open({ root: join(work, "source") });
const t0 = process.hrtime.bigint();
const baseLayer = await addLayer(source, {
  entries: [
    { path: "bin", type: "dir" },
    {
      path: "bin/busybox",
      type: "file",
      mode: 0o755,
      content: { file: "/bin/busybox" },
      size: (await import("node:fs")).statSync("/bin/busybox").size,
    },
    { path: "bin/sh", type: "symlink", linkname: "busybox" },
    { path: "etc", type: "dir" },
    { path: "etc/group", type: "file", content: "root:x:0:\nnogroup:x:65534:\n" },
    {
      path: "etc/passwd",
      type: "file",
      content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    },
    { path: "tmp", type: "dir", mode: 0o1777 },
  ],
});
const treeLayer = await addLayer(source, { dir: join(ctx, "node_modules"), prefix: "app/node_modules" });
console.error(
  `bench: image built in ${seconds(t0).toFixed(1)} s; tree layer ${(treeLayer.desc.size / 1e6).toFixed(1)} MB`,
);
const base = await addImage(source, [baseLayer], ["bench.invalid/library/busybox:latest"], ["sh"]);
const image = await addImage(
  source,
  [baseLayer, treeLayer],
  ["bench.invalid/bench/copy-tree:latest"],
  ["sh"],
);
const imageBytes = image.size;

// An OCI layout of the same image for skopeo's push, made on a throwaway registry.
const layoutDir = join(work, "skopeo-src");
{
  const reg = await startRegistry("prep");
  const client = new RegistryClient();
  await pushImage(client, image, parseReference(`${reg.host}/prep/copy-tree:latest`), { store: source });
  await client.close();
  await run("skopeo", [
    "copy",
    "--src-tls-verify=false",
    `docker://${reg.host}/prep/copy-tree:latest`,
    `oci:${layoutDir}:latest`,
  ]);
  await reg.stop();
}

// CHUNK_THRESHOLD / CHUNK_SIZE (bytes) force chunked PATCH uploads, to compare with one streamed PUT.
const chunking = {
  ...(process.env.CHUNK_THRESHOLD ? { chunkThreshold: Number(process.env.CHUNK_THRESHOLD) } : {}),
  ...(process.env.CHUNK_SIZE ? { chunkSize: Number(process.env.CHUNK_SIZE) } : {}),
};
/** settle flushes dirty pages before a timed step, so no tool pays for the previous one's writeback. */
const settle = () => run("sync");
const samples = new Map();
function record(tool, phase, wall, cpu, extra = {}) {
  const key = `${tool} ${phase}`;
  if (!samples.has(key)) samples.set(key, { wall: [], cpu: [] });
  samples.get(key).wall.push(wall);
  if (cpu !== undefined) samples.get(key).cpu.push(cpu);
  console.log(
    JSON.stringify({
      bench: "pull-push",
      tool,
      phase,
      seconds: Number(wall.toFixed(3)),
      ...(cpu !== undefined ? { cpu_seconds: Number(cpu.toFixed(3)) } : {}),
      image_bytes: imageBytes,
      ...extra,
    }),
  );
}

/** inProcess times `fn` (wall and this process's CPU) after flushing dirty pages. */
async function inProcess(fn) {
  await settle();
  const cpu0 = process.cpuUsage();
  const t = process.hrtime.bigint();
  const value = await fn();
  const wall = seconds(t);
  const cpu = process.cpuUsage(cpu0);
  return { value, wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** skopeo times one `skopeo copy` (wall, and its CPU via /usr/bin/time when installed). */
const haveTime = existsSync("/usr/bin/time");
async function skopeo(args) {
  await settle();
  const t = process.hrtime.bigint();
  const { stderr } = haveTime
    ? await run("/usr/bin/time", ["-f", "%U %S", "skopeo", "copy", "-q", ...args])
    : await run("skopeo", ["copy", "-q", ...args]);
  const wall = seconds(t);
  const m = /([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : undefined };
}

for (let r = 0; r < repeat; r++) {
  const reg = await startRegistry(`run-${r}`);
  try {
    const setup = new RegistryClient();
    await pushImage(setup, base, parseReference(`${reg.host}/library/busybox:latest`), { store: source });
    await setup.close();

    const push = await inProcess(async () => {
      const client = new RegistryClient();
      const pushed = await pushImage(client, image, parseReference(`${reg.host}/bench/tsbuild:latest`), {
        store: source,
        ...chunking,
      });
      await client.close();
      return pushed;
    });
    record("tsbuild", "push", push.wall, push.cpu, {
      mounted: push.value.blobs.filter((b) => b.status === "mounted").length,
      uploaded: push.value.blobs.filter((b) => b.status === "pushed").length,
    });

    const skPush = await skopeo([
      "--dest-tls-verify=false",
      `oci:${layoutDir}:latest`,
      `docker://${reg.host}/bench/skopeo:latest`,
    ]);
    record("skopeo", "push", skPush.wall, skPush.cpu);

    const fresh = await ImageStore.open({ root: join(work, `pulled-${r}`) });
    const pull = await inProcess(async () => {
      const client = new RegistryClient();
      await pullImage(client, parseReference(`${reg.host}/bench/tsbuild:latest`), { store: fresh });
      await client.close();
    });
    record("tsbuild", "pull", pull.wall, pull.cpu);
    await fresh.close();

    const skPull = await skopeo([
      "--src-tls-verify=false",
      `docker://${reg.host}/bench/tsbuild:latest`,
      `oci:${join(work, `skopeo-pulled-${r}`)}:latest`,
    ]);
    record("skopeo", "pull", skPull.wall, skPull.cpu);
  } finally {
    await reg.stop();
    await rm(join(work, `run-${r}`), { recursive: true, force: true });
    await rm(join(work, `pulled-${r}`), { recursive: true, force: true });
    await rm(join(work, `skopeo-pulled-${r}`), { recursive: true, force: true });
  }
}
await source.close();

const median = (xs) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r3 = (x) => (x === undefined ? undefined : Number(x.toFixed(3)));
for (const phase of ["push", "pull"]) {
  const ts = samples.get(`tsbuild ${phase}`);
  const sk = samples.get(`skopeo ${phase}`);
  const [tw, sw, tc, sc] = [median(ts.wall), median(sk.wall), median(ts.cpu), median(sk.cpu)];
  console.log(
    JSON.stringify({
      bench: "pull-push",
      summary: phase,
      tsbuild_median_s: r3(tw),
      skopeo_median_s: r3(sw),
      ratio_vs_skopeo: Number((tw / sw).toFixed(2)),
      tsbuild_cpu_median_s: r3(tc),
      skopeo_cpu_median_s: r3(sc),
      ...(tc !== undefined && sc !== undefined ? { cpu_ratio_vs_skopeo: Number((tc / sc).toFixed(2)) } : {}),
      ...(phase === "push"
        ? { buildah_reference_s: 2.64, ratio_vs_buildah_reference: Number((tw / 2.64).toFixed(2)) }
        : {}),
      repeat,
    }),
  );
}
if (!process.env.KEEP) await rm(work, { recursive: true, force: true });
