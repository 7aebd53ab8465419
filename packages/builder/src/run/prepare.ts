import { chmod, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";
import { currentIdentity, type Identity } from "../sandbox/idmap.js";
import { runInNamespace } from "../sandbox/namespace.js";
import type { NetworkMode } from "../sandbox/sandbox.js";
import { SLIRP_DNS } from "../sandbox/slirp.js";
import type { SpecMount } from "../sandbox/spec.js";
import { type ProcessUser, resolveUser } from "../sandbox/user.js";
import { CopySnapshotter } from "../snapshot/copy.js";
import { LowerView } from "../snapshot/lowers.js";
import { fitsOverlay, OverlaySnapshotter } from "../snapshot/overlay.js";
import type { Snapshot, SnapshotKind, Snapshotter } from "../snapshot/snapshotter.js";
import { shq } from "../snapshot/snapshotter.js";
import { removeTree } from "./remove.js";

/**
 * RunMount is one mount of a RUN step (`RUN --mount`) or of `tsbuild run`, resolved to host paths:
 * - cache: a host directory that persists between builds, mounted read-write (read-only with `readonly`);
 * - bind: a host directory or file (context, another stage), read-only unless `readwrite`, whose writes are then made to a copy and discarded;
 * - host: a host directory or file bound as it is (`tsbuild run -v`), read-write unless `readonly`;
 * - tmpfs: an empty tmpfs;
 * - secret: a file holding `content`, mounted read-only, never in the layer (default mode 0400, owner 0:0);
 * - ssh: an agent socket on the host, bound at `target`.
 * A target that did not exist in the rootfs is not left in the layer.
 */
export type RunMount =
  | { type: "cache"; target: string; source: string; readonly?: boolean }
  | { type: "bind"; target: string; source: string; readwrite?: boolean }
  | { type: "host"; target: string; source: string; readonly?: boolean }
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

/** SandboxSetupOptions is what a container's rootfs and mounts depend on, for a RUN step and for `tsbuild run` alike. */
export interface SandboxSetupOptions {
  /** lowerDirs are unpacked layer directories, lowest first (from UnpackedLayers). */
  lowerDirs: readonly string[];
  /** env is KEY=VALUE; PATH and HOME are added when missing, as BuildKit and docker do. */
  env: readonly string[];
  /** cwd is the working directory (runc creates it when missing, as BuildKit and docker do). */
  cwd: string;
  /** user: "name", "uid", "uid:gid", "name:group" ("" = root), resolved in the rootfs's /etc/passwd and /etc/group. */
  user: string;
  hostname: string;
  network: NetworkMode;
  mounts?: readonly RunMount[];
  snapshotter?: SnapshotKind;
  /** tmpDir holds the upper/work dirs (default os.tmpdir()). */
  tmpDir?: string;
  signal?: AbortSignal;
}

/** SandboxSetup is a prepared container: its rootfs snapshot, resolved process user and env, and mounts. */
export interface SandboxSetup {
  identity: Identity;
  kind: SnapshotKind;
  workDir: string;
  snapshot: Snapshot;
  user: ProcessUser;
  env: string[];
  cwd: string;
  mounts: SpecMount[];
  /** setup are sh commands the sandbox runs before runc (secret ownership, private copies of binds). */
  setup: string[];
  /** stubs are mount targets (and their parents) missing from the lowers: runc creates them, the diff drops them. */
  stubs: Set<string>;
  warnings: string[];
  /** cleanup removes the work dir (upper dir included). */
  cleanup(): Promise<void>;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** snapshotterFor returns the implementation of a kind. */
export function snapshotterFor(kind: SnapshotKind): Snapshotter {
  return kind === "copy" ? new CopySnapshotter() : new OverlaySnapshotter(kind);
}

/**
 * setupSandbox prepares one container on the given layers: a private work
 * dir, the rootfs snapshot (overlay of the lowers, or a copy where overlay
 * does not fit), the user and env resolved in the rootfs, /etc/hosts,
 * /etc/resolv.conf and the mounts. RUN steps and `tsbuild run` share it; on
 * failure everything it made is removed.
 */
export async function setupSandbox(o: SandboxSetupOptions): Promise<SandboxSetup> {
  o.signal?.throwIfAborted();
  const identity = currentIdentity();
  let kind = o.snapshotter ?? (await probeSnapshotter(identity));
  const workDir = await mkdtemp(join(resolve(o.tmpDir ?? tmpdir()), "tsbuild-run-"));
  const warnings = identity.warning ? [identity.warning] : [];
  const lowerDirs = o.lowerDirs.map((d) => resolve(d));
  if (kind !== "copy" && !fitsOverlay(lowerDirs, workDir)) {
    // Too many layers for one page of overlay mount data: the lowers are merged into a copied rootfs.
    warnings.push(
      `${o.lowerDirs.length} layers do not fit one overlay mount: the step runs on a merged copy (slower)`,
    );
    kind = "copy";
  }
  await chmod(workDir, 0o711);
  const cleanup = (): Promise<void> => removeTree(identity, workDir);
  try {
    const lowers = new LowerView(lowerDirs);
    const user = resolveUser(o.user, (rel) => lowers.readText(rel));
    const env = [...o.env];
    if (!env.some((e) => e.startsWith("PATH="))) env.push(DEFAULT_PATH);
    if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${user.home}`);
    const { mounts, setup } = await resolveMounts(workDir, o.hostname, o.network, o.mounts ?? []);
    const snapshot = await snapshotterFor(kind).prepare({
      identity,
      lowerDirs,
      workDir,
      ...(o.signal && { signal: o.signal }),
    });
    // As BuildKit's MountStubsCleaner: the stubs of /etc/hosts, /etc/resolv.conf and the RUN's own
    // mounts are dropped; the /dev, /proc and /sys directories runc makes in a base that lacks them stay
    // in the layer, as docker's do.
    const stubs = stubPaths(
      lowers,
      mounts.map((m) => m.destination),
    );
    // A missing working directory is created by runc inside the rootfs (never through a host path).
    const cwd = posix.resolve("/", o.cwd || "/");
    return { identity, kind, workDir, snapshot, user, env, cwd, mounts, setup, stubs, warnings, cleanup };
  } catch (err) {
    await cleanup().catch(() => {});
    throw err;
  }
}

/**
 * stubPaths lists the mount targets, and their parent directories, that do not exist in the lowers: runc
 * creates them. A target is first resolved through the image's symlinks, as runc (securejoin) and
 * BuildKit's MountStubsCleaner (RootPath) do: a /etc/resolv.conf linked to ../run/systemd/resolve/… gets
 * its stub, and the directories above it, there.
 */
export function stubPaths(lowers: LowerView, targets: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const t of targets) {
    const parts = lowers.resolve(posix.resolve("/", t)).split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join("/");
      if (!out.has(rel) && !lowers.exists(rel)) out.add(rel);
    }
  }
  return out;
}

function hostsFile(hostname: string): string {
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t${hostname}\n`;
}

/** resolvConf is the host's, or slirp4netns's resolver for a private network (the host's may be on its loopback). */
async function resolvConf(network: NetworkMode): Promise<string> {
  if (network === "private") return `nameserver ${SLIRP_DNS}\n`;
  try {
    return await readFile("/etc/resolv.conf", "utf8");
  } catch {
    return "nameserver 8.8.8.8\n";
  }
}

/** resolveMounts writes /etc/hosts, /etc/resolv.conf and secrets into the work dir and turns mounts into runtime spec mounts. */
async function resolveMounts(
  workDir: string,
  hostname: string,
  network: NetworkMode,
  runMounts: readonly RunMount[],
): Promise<{ mounts: SpecMount[]; setup: string[] }> {
  const files = join(workDir, "files");
  await mkdir(files, { mode: 0o711 });
  const hosts = join(files, "hosts");
  const resolv = join(files, "resolv.conf");
  await writeFile(hosts, hostsFile(hostname), { mode: 0o644 });
  await writeFile(resolv, await resolvConf(network), { mode: 0o644 });
  const mounts: SpecMount[] = [
    { destination: "/etc/hosts", type: "bind", source: hosts, options: ["rbind", "rprivate"] },
    { destination: "/etc/resolv.conf", type: "bind", source: resolv, options: ["rbind", "rprivate"] },
  ];
  const setup: string[] = [];
  for (const [i, m] of runMounts.entries()) {
    const destination = posix.resolve("/", m.target);
    switch (m.type) {
      case "cache":
      case "host":
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
