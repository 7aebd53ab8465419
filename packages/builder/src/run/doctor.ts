import { execFile } from "node:child_process";
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { hostPlatform } from "@tsbuild/oci";
import { currentIdentity, type Identity } from "../sandbox/idmap.js";
import { runInNamespace } from "../sandbox/namespace.js";
import type { SnapshotKind } from "../snapshot/snapshotter.js";
import { displayPlatform, emulators } from "./emulation.js";
import { canMount, runStep } from "./execute.js";
import { removeTree } from "./remove.js";

const exec = promisify(execFile);

/** CheckStatus: ok, missing (RUN needs it, or a better mode does), info (worth knowing, never blocks). */
export type CheckStatus = "ok" | "missing" | "info";

/** RunCheck is one prerequisite of RUN: what was found and, when it is missing, the command that fixes it. */
export interface RunCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** RunSupport is doctor's answer: every check, the mode `build` would use, and whether RUN can work at all. */
export interface RunSupport {
  user: string;
  rootless: boolean;
  checks: RunCheck[];
  /** snapshotter is the best rootfs kind that works here (copy when no overlay mounts). */
  snapshotter: SnapshotKind;
  /** works: a RUN step can run here (a real one was tried when busybox is installed). */
  works: boolean;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter)) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

function readOr(path: string, fallback = ""): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return fallback;
  }
}

async function runcCheck(runtime: string): Promise<RunCheck> {
  const path = runtime.includes("/") ? runtime : onPath(runtime);
  if (!path)
    return {
      name: "runc",
      status: "missing",
      detail: `${runtime} not found on PATH`,
      fix: "sudo apt-get install runc",
    };
  try {
    const { stdout } = await exec(path, ["--version"]);
    return { name: "runc", status: "ok", detail: `${stdout.split("\n")[0]} (${path})` };
  } catch (err) {
    return {
      name: "runc",
      status: "missing",
      detail: `${path} --version failed: ${(err as Error).message}`,
      fix: "sudo apt-get install --reinstall runc",
    };
  }
}

async function userNamespaceCheck(identity: Identity): Promise<RunCheck> {
  if (!identity.rootless)
    return { name: "user namespaces", status: "info", detail: "not needed: running as root" };
  // Only the user itself mapped (no newuidmap involved): does the kernel let this user make namespaces at all?
  const self = (id: number) => [{ containerId: 0, hostId: id, size: 1 }];
  const single: Identity = {
    rootless: true,
    singleId: true,
    uid: self(process.geteuid?.() ?? 0),
    gid: self(process.getegid?.() ?? 0),
  };
  const r = await runInNamespace(single, "true", [], { mount: true }).then(
    () => undefined,
    (err: Error) => err.message,
  );
  if (r === undefined)
    return { name: "user namespaces", status: "ok", detail: "unprivileged user and mount namespaces work" };
  let fix = "sudo sysctl -w user.max_user_namespaces=28633";
  if (readOr("/proc/sys/kernel/unprivileged_userns_clone", "1") === "0")
    fix = "sudo sysctl -w kernel.unprivileged_userns_clone=1";
  else if (readOr("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0") === "1")
    fix = "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0";
  return { name: "user namespaces", status: "missing", detail: r, fix };
}

function subIdCheck(identity: Identity, user: string): RunCheck {
  if (!identity.rootless)
    return { name: "subuid/subgid", status: "info", detail: "not needed: running as root" };
  if (identity.singleId) {
    return {
      name: "subuid/subgid",
      status: "missing",
      detail: `no ranges for ${user} in /etc/subuid and /etc/subgid: RUN sees only uid 0; chown and apt's _apt fail`,
      fix: `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}`,
    };
  }
  const count = (ranges: Identity["uid"]) => ranges.slice(1).reduce((n, r) => n + r.size, 0);
  return {
    name: "subuid/subgid",
    status: "ok",
    detail: `${count(identity.uid)} uids, ${count(identity.gid)} gids for ${user}`,
  };
}

function idmapCheck(identity: Identity): RunCheck {
  if (!identity.rootless)
    return { name: "newuidmap/newgidmap", status: "info", detail: "not needed: running as root" };
  const missing = ["newuidmap", "newgidmap"].filter((b) => {
    const p = onPath(b);
    if (!p) return true;
    const st = statSync(p);
    return (st.mode & 0o4000) === 0 || st.uid !== 0 ? !hasFileCaps(p) : false;
  });
  if (missing.length === 0)
    return { name: "newuidmap/newgidmap", status: "ok", detail: "installed setuid root" };
  return {
    name: "newuidmap/newgidmap",
    status: identity.singleId ? "info" : "missing",
    detail: `${missing.join(" and ")} missing or not privileged`,
    fix: "sudo apt-get install uidmap",
  };
}

function hasFileCaps(path: string): boolean {
  // security.capability is only readable with getfattr; assume the packaged binary is right when present.
  return existsSync(path);
}

async function overlayCheck(identity: Identity): Promise<RunCheck> {
  const where = identity.rootless ? "in a user namespace (userxattr)" : "as root";
  if (await canMount(identity, "overlay"))
    return { name: "kernel overlay", status: "ok", detail: `mounts ${where}` };
  return {
    name: "kernel overlay",
    status: "missing",
    detail: `cannot mount overlayfs ${where}${identity.rootless ? " (needs Linux 5.11+)" : ""}; fuse-overlayfs or a copy is used instead`,
    fix: "sudo modprobe overlay",
  };
}

async function fuseCheck(identity: Identity, overlayOk: boolean): Promise<RunCheck> {
  const status: CheckStatus = overlayOk ? "info" : "missing";
  if (!onPath("fuse-overlayfs"))
    return {
      name: "fuse-overlayfs",
      status,
      detail: "not installed",
      fix: "sudo apt-get install fuse-overlayfs",
    };
  if (!existsSync("/dev/fuse"))
    return { name: "fuse-overlayfs", status, detail: "/dev/fuse is missing", fix: "sudo modprobe fuse" };
  if (await canMount(identity, "fuse-overlayfs"))
    return { name: "fuse-overlayfs", status: "ok", detail: "mounts" };
  return {
    name: "fuse-overlayfs",
    status,
    detail: "installed but cannot mount here",
    fix: "sudo chmod 666 /dev/fuse",
  };
}

function cgroupCheck(identity: Identity): RunCheck {
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  if (!identity.rootless)
    return { name: "cgroups", status: "ok", detail: `${v2 ? "v2" : "v1"}, managed by runc as root` };
  let writable = false;
  try {
    accessSync(
      `/sys/fs/cgroup${
        readOr("/proc/self/cgroup")
          .split("\n")
          .find((l) => l.startsWith("0::"))
          ?.slice(3) ?? ""
      }`,
      constants.W_OK,
    );
    writable = v2;
  } catch {
    // not delegated
  }
  return {
    name: "cgroups",
    status: "info",
    detail: writable
      ? "v2, delegated to this user"
      : `${v2 ? "v2" : "v1"}, not delegated to this user: RUN works, without resource limits`,
  };
}

function securityCheck(): RunCheck {
  const seccomp = /Seccomp:\s*(\d)/.exec(readOr("/proc/self/status"))?.[1];
  const apparmor = readOr("/sys/module/apparmor/parameters/enabled", "N") === "Y";
  const restrict = readOr("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0") === "1";
  const parts = [
    `seccomp ${seccomp === "2" ? "filtering this process" : seccomp === undefined ? "unknown" : "available"}`,
    `AppArmor ${apparmor ? "enabled" : "not enabled"}${restrict ? ", restricting unprivileged user namespaces" : ""}`,
    "RUN containers get no seccomp profile",
  ];
  return { name: "seccomp/AppArmor", status: "info", detail: parts.join("; ") };
}

/** smokeTest runs `busybox true` as a real RUN on a one-binary rootfs (the strongest check there is). */
async function smokeTest(identity: Identity, snapshotter: SnapshotKind, runtime: string): Promise<RunCheck> {
  const busybox = onPath("busybox");
  if (!busybox)
    return {
      name: "RUN",
      status: "info",
      detail: "not tried: busybox (a static one) is needed for the test",
      fix: "sudo apt-get install busybox-static",
    };
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-doctor-"));
  try {
    mkdirSync(join(dir, "rootfs/bin"), { recursive: true });
    copyFileSync(busybox, join(dir, "rootfs/bin/busybox"));
    const r = await runStep({
      lowerDirs: [join(dir, "rootfs")],
      args: ["/bin/busybox", "true"],
      env: [],
      cwd: "/",
      user: "",
      network: "default",
      snapshotter,
      runtime,
      tmpDir: dir,
    });
    await r.cleanup();
    return {
      name: "RUN",
      status: "ok",
      detail: `a test step ran (${snapshotter}, ${identity.rootless ? "rootless" : "root"})`,
    };
  } catch (err) {
    return {
      name: "RUN",
      status: "missing",
      detail: `a test step failed: ${(err as Error).message.split("\n")[0]}`,
    };
  } finally {
    await removeTree(identity, dir).catch(() => {});
  }
}

/**
 * publishCheck says whether `tsbuild run -p` can publish ports here: it
 * needs slirp4netns and, rootless, /dev/net/tun usable by this user. It
 * never blocks RUN (status info when missing).
 */
async function publishCheck(identity: Identity): Promise<RunCheck> {
  const name = "run -p";
  const path = onPath("slirp4netns");
  if (!path) {
    return {
      name,
      status: "info",
      detail: "slirp4netns is not installed: `tsbuild run -p` cannot publish ports",
      fix: "sudo apt-get install slirp4netns",
    };
  }
  if (identity.rootless) {
    try {
      accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
    } catch {
      return {
        name,
        status: "info",
        detail: "/dev/net/tun is not usable by this user: rootless `tsbuild run -p` cannot publish ports",
        fix: "sudo chmod 0666 /dev/net/tun",
      };
    }
  }
  const version = await exec(path, ["--version"]).then(
    (r) => r.stdout.split("\n")[0] ?? "",
    () => "",
  );
  return { name, status: "ok", detail: `${version || "slirp4netns"} (${path})` };
}

/** emulationCheck reports which other architectures RUN can execute through binfmt_misc emulators. */
async function emulationCheck(): Promise<RunCheck> {
  const host = displayPlatform(hostPlatform());
  const usable = (await emulators()).filter((e) => e.enabled && e.fixBinary);
  if (usable.length === 0) {
    return {
      name: "emulation",
      status: "info",
      detail: `RUN executes ${host} only: no binfmt_misc emulator with the F flag is registered (stages without RUN build for any platform)`,
      fix: "apt-get install qemu-user-static",
    };
  }
  const list = usable.map((e) => `linux/${e.architecture} (${e.handler})`).join(", ");
  return { name: "emulation", status: "ok", detail: `RUN executes ${host} natively and ${list} emulated` };
}

/**
 * checkRunSupport is `tsbuild doctor`: every prerequisite of RUN, what
 * works, what is missing with the exact command that fixes it, the mode a
 * build would use, and a real test step. `build` explains a missing
 * prerequisite with these same words.
 */
export async function checkRunSupport(opts: { runtime?: string } = {}): Promise<RunSupport> {
  const identity = currentIdentity();
  let user = String(process.geteuid?.() ?? 0);
  try {
    user = userInfo().username;
  } catch {
    // numeric
  }
  const runtime = opts.runtime ?? "runc";
  const checks: RunCheck[] = [await runcCheck(runtime)];
  const userns = await userNamespaceCheck(identity);
  checks.push(userns, subIdCheck(identity, user), idmapCheck(identity));
  const canNamespace = userns.status !== "missing";
  const overlay = canNamespace
    ? await overlayCheck(identity)
    : { name: "kernel overlay", status: "missing" as const, detail: "not tried: no user namespace" };
  checks.push(overlay);
  const fuse = canNamespace
    ? await fuseCheck(identity, overlay.status === "ok")
    : { name: "fuse-overlayfs", status: "missing" as const, detail: "not tried: no user namespace" };
  checks.push(
    fuse,
    cgroupCheck(identity),
    securityCheck(),
    await emulationCheck(),
    await publishCheck(identity),
  );
  const snapshotter: SnapshotKind =
    overlay.status === "ok" ? "overlay" : fuse.status === "ok" ? "fuse-overlayfs" : "copy";
  const blocking = checks.some((c) => c.status === "missing" && ["runc", "user namespaces"].includes(c.name));
  let works = !blocking;
  if (works) {
    const smoke = await smokeTest(identity, snapshotter, runtime);
    checks.push(smoke);
    works = smoke.status !== "missing";
  }
  return { user, rootless: identity.rootless, checks, snapshotter, works };
}
