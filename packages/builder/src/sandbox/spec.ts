import type { ProcessUser } from "./user.js";

/** SpecMount is one entry of the runtime spec's mounts list. */
export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** SpecOptions is everything the runtime spec of one RUN depends on. */
export interface SpecOptions {
  rootfs: string;
  args: readonly string[];
  env: readonly string[];
  cwd: string;
  user: ProcessUser;
  hostname: string;
  /** rootless: runc runs as root of a user namespace the sandbox made (no user namespace of its own, /sys bound). */
  rootless: boolean;
  /** ownNetwork: the sandbox made a network namespace (network "none" or "private"), so sysfs can be mounted. */
  ownNetwork: boolean;
  /** mounts after the standard ones (/etc/hosts, /etc/resolv.conf, RUN --mount targets). */
  mounts: readonly SpecMount[];
  /** terminal: the process gets a pseudo-terminal (`tsbuild run -t`). */
  terminal?: boolean;
}

/** DEFAULT_CAPS is docker's default capability set, which RUN steps get (chown, setuid for apt's _apt, mknod…). */
export const DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

const MASKED = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
];
const READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/**
 * runtimeSpec is the OCI runtime config (config.json) for one RUN, as docker
 * would run a build container: pid, ipc, uts and mount namespaces; the
 * network namespace is the sandbox's (host, or its own for "none"); docker's
 * default capabilities; /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys.
 * Rootless, runc already runs as root of the sandbox's user namespace, so the
 * spec asks for no user namespace, binds /sys instead of mounting sysfs
 * (which needs a network namespace of our own) and leaves out the cgroup mount.
 */
export function runtimeSpec(o: SpecOptions): object {
  const caps = DEFAULT_CAPS;
  const sys: SpecMount =
    o.rootless && !o.ownNetwork
      ? {
          destination: "/sys",
          type: "none",
          source: "/sys",
          options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
        }
      : { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] };
  const mounts: SpecMount[] = [
    { destination: "/proc", type: "proc", source: "proc" },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: [
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
        ...(o.rootless ? [] : ["gid=5"]),
      ],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    sys,
    ...o.mounts,
  ];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: o.terminal ?? false,
      user: { uid: o.user.uid, gid: o.user.gid, additionalGids: o.user.additionalGids },
      args: [...o.args],
      env: [...o.env],
      cwd: o.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: false,
    },
    root: { path: o.rootfs, readonly: false },
    hostname: o.hostname,
    mounts,
    linux: {
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: MASKED,
      readonlyPaths: READONLY,
    },
  };
}
