import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** DOCKER_CAPS are the capabilities docker's default profile keeps (umoci's spec has runc's minimal three). */
export const DOCKER_CAPS = [
  ...["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID"],
  ...["SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"],
].map((c) => `CAP_${c}`);

/** BundleOptions says how prepareBundle turns umoci's runtime spec into a docker-like one. */
export interface BundleOptions {
  /** hostNetwork drops the network namespace (the container shares the host's); default: its own, loopback only. */
  readonly hostNetwork?: boolean;
}

/**
 * prepareBundle edits the `config.json` of a bundle made by `umoci unpack`: no
 * terminal, the capabilities docker gives a container, and the options. It
 * returns the spec's process arguments (the image's ENTRYPOINT and CMD).
 */
export async function prepareBundle(bundle: string, options: BundleOptions = {}): Promise<string[]> {
  const path = join(bundle, "config.json");
  const spec = JSON.parse(await readFile(path, "utf8"));
  const imageArgs: string[] = spec.process.args;
  spec.process.terminal = false;
  spec.process.capabilities = { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS };
  if (options.hostNetwork) {
    spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== "network");
  }
  await writeFile(path, JSON.stringify(spec, null, 2));
  return imageArgs;
}

/** RuncContainer is a detached container; `pid` is its init process on the host. */
export interface RuncContainer {
  readonly name: string;
  readonly pid: number;
  /** log returns what the container printed so far. */
  log(): Promise<string>;
  /** status is runc's view: "running", "stopped", … */
  status(): Promise<string>;
  /** remove kills and deletes the container (idempotent). */
  remove(): Promise<void>;
}

/**
 * runDetached starts the bundle with `runc run --detach` under its own state
 * directory `stateDir`, its output in `stateDir/NAME.log`.
 */
export async function runDetached(bundle: string, stateDir: string, name: string): Promise<RuncContainer> {
  const logPath = join(stateDir, `${name}.log`);
  const log = await open(logPath, "w");
  try {
    const runc = spawn("runc", ["--root", stateDir, "run", "--detach", "--bundle", bundle, name], {
      stdio: ["ignore", log.fd, log.fd],
    });
    const [code] = await once(runc, "exit");
    if (code !== 0) throw new Error(`runc run exited ${code}: ${await readFile(logPath, "utf8")}`);
  } finally {
    await log.close();
  }
  const state = async () =>
    JSON.parse((await exec("runc", ["--root", stateDir, "state", name])).stdout) as {
      status: string;
      pid: number;
    };
  const { pid } = await state();
  let removed = false;
  return {
    name,
    pid,
    log: () => readFile(logPath, "utf8"),
    status: async () => (await state()).status,
    remove: async () => {
      if (removed) return;
      removed = true;
      await exec("runc", ["--root", stateDir, "kill", name, "KILL"]).catch(() => {});
      await exec("runc", ["--root", stateDir, "delete", "--force", name]);
    },
  };
}

/**
 * httpGet fetches `url` with curl, retrying for up to `seconds` while the
 * server starts. With `netnsOf`, curl runs in that process's network namespace
 * (nsenter), so a container with its own loopback is reached on its own port 80.
 */
export async function httpGet(
  url: string,
  options: { netnsOf?: number; seconds?: number } = {},
): Promise<string> {
  const curl = ["curl", "-fsS", "--max-time", "10", url];
  const [cmd, ...args] = options.netnsOf
    ? ["nsenter", `--net=/proc/${options.netnsOf}/ns/net`, ...curl]
    : curl;
  const deadline = Date.now() + (options.seconds ?? 120) * 1000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      return (await exec(cmd as string, args)).stdout;
    } catch (err) {
      last = String((err as { stderr?: string }).stderr ?? err);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`${url} never answered: ${last}`);
}
