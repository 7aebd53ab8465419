import { chmod, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";
import type { LayerEntry } from "@tsbuild/oci";
import { RunFailedError } from "../errors.js";
import { currentIdentity, type Identity } from "../sandbox/idmap.js";
import { runInNamespace } from "../sandbox/namespace.js";
import { RuncSandbox } from "../sandbox/runc.js";
import type { NetworkMode } from "../sandbox/sandbox.js";
import type { SpecMount } from "../sandbox/spec.js";
import { resolveUser } from "../sandbox/user.js";
import { CopySnapshotter } from "../snapshot/copy.js";
import { LowerView } from "../snapshot/lowers.js";
import { fitsOverlay, OverlaySnapshotter } from "../snapshot/overlay.js";
import type { SnapshotKind, Snapshotter } from "../snapshot/snapshotter.js";
import { shq } from "../snapshot/snapshotter.js";
import { removeTree } from "./remove.js";

/**
 * RunMount is one `RUN --mount`, resolved by the engine to host paths:
 * - cache: a host directory that persists between builds, mounted read-write (read-only with `readonly`);
 * - bind: a host directory or file (context, another stage), read-only unless `readwrite`, whose writes are then made to a copy and discarded;
 * - tmpfs: an empty tmpfs;
 * - secret: a file holding `content`, mounted read-only, never in the layer (default mode 0400, owner 0:0);
 * - ssh: an agent socket on the host, bound at `target`.
 * A target that did not exist in the rootfs is not left in the layer.
 */
export type RunMount =
  | { type: "cache"; target: string; source: string; readonly?: boolean }
  | { type: "bind"; target: string; source: string; readwrite?: boolean }
  | { type: "tmpfs"; target: string; size?: number }
  | {
      type: "secret";
      target: string;
      content: Uint8Array | string;
      mode?: number;
      uid?: number;
      gid?: number;
    }
  | { type: "ssh"; target: string; socket: string };

/** RunStepOptions is one RUN step, resolved: what to run, as whom, on which layers. */
export interface RunStepOptions {
  /** lowerDirs are unpacked layer directories, lowest first (from UnpackedLayers). */
  lowerDirs: string[];
  /** args are the process args, already resolved (shell form already wrapped in the SHELL). */
  args: string[];
  /** env is KEY=VALUE; PATH and HOME are added when missing, as BuildKit does. */
  env: string[];
  /** cwd is the WORKDIR (created when missing, as BuildKit does). */
  cwd: string;
  /** user is USER: "name", "uid", "uid:gid", "name:group" ("" = root), resolved in the rootfs's /etc/passwd and /etc/group. */
  user: string;
  /** hostname inside the step (default "buildkitsandbox", BuildKit's). */
  hostname?: string;
  network: NetworkMode;
  mounts?: RunMount[];
  /** runtime is the runc binary (default `runc` from PATH). */
  runtime?: string;
  /** snapshotter: how the rootfs is made; default the best that works here (probeSnapshotter). */
  snapshotter?: SnapshotKind;
  /** tmpDir holds the step's upper/work dirs (default os.tmpdir()); keep it on the same filesystem as the layer cache for copy-ups. */
  tmpDir?: string;
  signal?: AbortSignal;
  onOutput?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
}

/** RunStepResult is the step's filesystem change, ready for createLayer({ entries }). */
export interface RunStepResult {
  /** entries is the diff in layer order: whiteouts as `.wh.NAME`, opaque directories as `.wh..wh..opq`. */
  entries: LayerEntry[];
  /** changed is false when the step changed nothing (entries is empty). */
  changed: boolean;
  /** snapshotter is how the rootfs was made. */
  snapshotter: SnapshotKind;
  /** warnings: e.g. a single-id user namespace. */
  warnings: string[];
  /** cleanup removes the step's upper/work dirs; call it after the layer was written (entries read files from there). */
  cleanup(): Promise<void>;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** snapshotterFor returns the implementation of a kind. */
export function snapshotterFor(kind: SnapshotKind): Snapshotter {
  return kind === "copy" ? new CopySnapshotter() : new OverlaySnapshotter(kind);
}

/**
 * runStep runs one RUN in a runc container on the given layers and returns
 * what it changed. A non-zero exit throws RunFailedError (command, exit
 * code, last lines of output); an abort kills the container and removes
 * every mount and temp dir before rejecting with the signal's reason.
 */
export async function runStep(o: RunStepOptions): Promise<RunStepResult> {
  o.signal?.throwIfAborted();
  const identity = currentIdentity();
  let kind = o.snapshotter ?? (await probeSnapshotter(identity));
  const workDir = await mkdtemp(join(resolve(o.tmpDir ?? tmpdir()), "tsbuild-run-"));
  const warnings = identity.warning ? [identity.warning] : [];
  if (
    kind !== "copy" &&
    !fitsOverlay(
      o.lowerDirs.map((d) => resolve(d)),
      workDir,
    )
  ) {
    // Too many layers for one page of overlay mount data: the lowers are merged into a copied rootfs.
    warnings.push(
      `${o.lowerDirs.length} layers do not fit one overlay mount: the step runs on a merged copy (slower)`,
    );
    kind = "copy";
  }
  await chmod(workDir, 0o711);
  const cleanup = (): Promise<void> => removeTree(identity, workDir);
  try {
    const lowerDirs = o.lowerDirs.map((d) => resolve(d));
    const lowers = new LowerView(lowerDirs);
    const user = resolveUser(o.user, (rel) => lowers.readText(rel));
    const env = [...o.env];
    if (!env.some((e) => e.startsWith("PATH="))) env.push(DEFAULT_PATH);
    if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${user.home}`);
    const hostname = o.hostname ?? "buildkitsandbox";
    const { mounts, setup } = await resolveMounts(identity, workDir, hostname, o.mounts ?? []);
    const snapshot = await snapshotterFor(kind).prepare({
      identity,
      lowerDirs,
      workDir,
      ...(o.signal && { signal: o.signal }),
    });
    const stubs = stubPaths(lowers, [...STANDARD_TARGETS, ...mounts.map((m) => m.destination)]);
    // A missing WORKDIR is created by runc inside the rootfs (never through a host path).
    const cwd = posix.resolve("/", o.cwd || "/");
    const exit = await new RuncSandbox().run({
      identity,
      snapshot,
      args: o.args,
      env,
      cwd,
      user,
      hostname,
      network: o.network,
      mounts,
      setup,
      workDir,
      ...(o.runtime && { runtime: o.runtime }),
      ...(o.signal && { signal: o.signal }),
      ...(o.onOutput && { onOutput: o.onOutput }),
    });
    if (exit.exitCode !== 0) throw new RunFailedError(o.args, exit.exitCode, exit.output);
    o.signal?.throwIfAborted();
    const entries = await snapshot.diff(stubs);
    return {
      entries,
      changed: entries.length > 0,
      snapshotter: kind,
      warnings,
      cleanup,
    };
  } catch (err) {
    await cleanup().catch(() => {});
    throw err;
  }
}

/** STANDARD_TARGETS are the mount points every sandbox has. */
const STANDARD_TARGETS = [
  "/proc",
  "/dev",
  "/dev/pts",
  "/dev/shm",
  "/dev/mqueue",
  "/sys",
  "/etc/hosts",
  "/etc/resolv.conf",
];

/** stubPaths lists the mount targets, and their parent directories, that do not exist in the lowers: runc creates them. */
export function stubPaths(lowers: LowerView, targets: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const t of targets) {
    const parts = posix.resolve("/", t).split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join("/");
      if (!out.has(rel) && !lowers.exists(rel)) out.add(rel);
    }
  }
  return out;
}

async function hostsFile(hostname: string): Promise<string> {
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t${hostname}\n`;
}

async function resolvConf(): Promise<string> {
  try {
    return await readFile("/etc/resolv.conf", "utf8");
  } catch {
    return "nameserver 8.8.8.8\n";
  }
}

/** resolveMounts writes /etc/hosts, /etc/resolv.conf and secrets into the work dir and turns RUN --mount into runtime spec mounts. */
async function resolveMounts(
  identity: Identity,
  workDir: string,
  hostname: string,
  runMounts: readonly RunMount[],
): Promise<{ mounts: SpecMount[]; setup: string[] }> {
  const files = join(workDir, "files");
  await mkdir(files, { mode: 0o711 });
  const hosts = join(files, "hosts");
  const resolv = join(files, "resolv.conf");
  await writeFile(hosts, await hostsFile(hostname), { mode: 0o644 });
  await writeFile(resolv, await resolvConf(), { mode: 0o644 });
  const mounts: SpecMount[] = [
    { destination: "/etc/hosts", type: "bind", source: hosts, options: ["rbind", "rprivate"] },
    { destination: "/etc/resolv.conf", type: "bind", source: resolv, options: ["rbind", "rprivate"] },
  ];
  const setup: string[] = [];
  for (const [i, m] of runMounts.entries()) {
    const destination = posix.resolve("/", m.target);
    switch (m.type) {
      case "cache":
        mounts.push({
          destination,
          type: "bind",
          source: m.source,
          options: ["rbind", m.readonly ? "ro" : "rw"],
        });
        break;
      case "bind":
        if (m.readwrite) {
          // Writes go to a private copy, discarded with the work dir.
          const copy = join(files, `bind-${i}`);
          setup.push(`cp -a ${shq(m.source)} ${shq(copy)}`);
          mounts.push({ destination, type: "bind", source: copy, options: ["rbind", "rw"] });
        } else mounts.push({ destination, type: "bind", source: m.source, options: ["rbind", "ro"] });
        break;
      case "tmpfs":
        mounts.push({
          destination,
          type: "tmpfs",
          source: "tmpfs",
          options: ["nosuid", "nodev", ...(m.size ? [`size=${m.size}`] : [])],
        });
        break;
      case "secret": {
        const file = join(files, `secret-${i}`);
        await writeFile(file, m.content, { mode: 0o600 });
        setup.push(
          `chown ${m.uid ?? 0}:${m.gid ?? 0} ${shq(file)}`,
          `chmod ${(m.mode ?? 0o400).toString(8)} ${shq(file)}`,
        );
        mounts.push({ destination, type: "bind", source: file, options: ["rbind", "ro"] });
        break;
      }
      case "ssh":
        mounts.push({ destination, type: "bind", source: m.socket, options: ["rbind"] });
        break;
    }
  }
  void identity;
  return { mounts, setup };
}

let probed: Promise<SnapshotKind> | undefined;

/**
 * probeSnapshotter finds the best rootfs kind that works here, once per
 * process: kernel overlay (in a user namespace with userxattr when
 * rootless), else fuse-overlayfs, else a copy.
 */
export function probeSnapshotter(identity: Identity = currentIdentity()): Promise<SnapshotKind> {
  probed ??= (async () => {
    if (await canMount(identity, "overlay")) return "overlay";
    if (await canMount(identity, "fuse-overlayfs")) return "fuse-overlayfs";
    return "copy";
  })();
  return probed;
}

/** canMount tries to mount a tiny overlay of the kind in a throwaway namespace. */
export async function canMount(identity: Identity, kind: "overlay" | "fuse-overlayfs"): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-probe-"));
  try {
    const snap = await new OverlaySnapshotter(kind).prepare({ identity, lowerDirs: [], workDir: dir });
    const script = [
      "set -e",
      ...snap.setup,
      `touch ${shq(join(snap.rootfs, "probe"))}`,
      ...snap.teardown,
    ].join("\n");
    const r = await runInNamespace(identity, "sh", ["-c", script], { mount: true, allowFailure: true });
    return r.code === 0;
  } catch {
    return false;
  } finally {
    await removeTree(identity, dir).catch(() => {});
  }
}
