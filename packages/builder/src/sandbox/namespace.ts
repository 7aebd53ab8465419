import { type ChildProcess, execFile, type SpawnOptions, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import { promisify } from "node:util";
import { SandboxError } from "../errors.js";
import { type Identity, mapArgs } from "./idmap.js";

const exec = promisify(execFile);

/** DOCTOR ends every sandbox set-up failure: doctor names what is missing and the command that fixes it. */
export const DOCTOR = " (run `tsbuild doctor` to see what RUN needs here and how to fix it)";

/** NamespaceOptions are the namespaces a helper process gets besides the user namespace (rootless only). */
export interface NamespaceOptions {
  /** mount: a private mount namespace, so every mount made inside vanishes with its last process. */
  mount?: boolean;
  /** net: a new network namespace (loopback only, down until brought up). */
  net?: boolean;
  /** detached: the helper leads its own process group, so an abort can kill everything it started. */
  detached?: boolean;
  /**
   * tied: the helper is pid 1 of a new pid namespace and dies with this process
   * (setpriv --pdeathsig, unshare --kill-child), so a build killed outright
   * (SIGKILL, a crash) takes every process the helper started with it.
   */
  tied?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdin: "pipe" to write to the helper, default "ignore". */
  stdin?: "pipe" | "ignore";
  /**
   * stdio replaces `stdin` and the piped stdout and stderr: each "pipe",
   * "ignore", "inherit" or a file descriptor of this process (a container's
   * output passed through as it is).
   */
  stdio?: readonly [StdioSpec, StdioSpec, StdioSpec];
  /** control: a socket at the helper's fd 4 (child.stdio[4]), for a conversation with the helper's script. */
  control?: boolean;
}

/** StdioSpec is one of the helper's standard streams. */
export type StdioSpec = "pipe" | "ignore" | "inherit" | number;

/** The sh prologue of a rootless helper: say "in the namespace" on fd 3, wait until the maps are written, then run the command. */
const HANDSHAKE = 'echo >&3; read _ <&3 || exit 125; exec 3>&-; exec "$@"';
/**
 * HANDSHAKE_TIED also leaves a watcher holding fd 3: when this process dies the
 * socket closes and the watcher kills everything in the helper's pid
 * namespace (a user namespace resets the parent-death signal, so
 * setpriv --pdeathsig alone does not reach past unshare when rootless).
 */
const HANDSHAKE_TIED = 'echo >&3; read _ <&3 || exit 125; (read _ <&3; kill -KILL -1) & exec 3>&-; exec "$@"';

/**
 * spawnInNamespace starts `cmd args` as the namespace's root: as root in the
 * asked-for namespaces (or directly when none), as an ordinary user in a new
 * user namespace whose maps are written before the command runs (newuidmap
 * and newgidmap for subordinate ranges; /proc/PID/uid_map for a single id).
 * The returned process's stdout and stderr are pipes.
 */
export async function spawnInNamespace(
  identity: Identity,
  cmd: string,
  args: readonly string[],
  opts: NamespaceOptions = {},
): Promise<ChildProcess> {
  const ns = [
    ...(opts.mount ? ["--mount", "--propagation", "private"] : []),
    ...(opts.net ? ["--net"] : []),
    ...(opts.tied ? ["--pid", "--kill-child=SIGKILL", "--mount-proc"] : []),
  ];
  const tie = opts.tied ? ["--pdeathsig", "SIGKILL"] : [];
  const base: SpawnOptions = {
    env: opts.env ?? process.env,
    ...(opts.cwd !== undefined && { cwd: opts.cwd }),
    detached: opts.detached ?? false,
  };
  const std: StdioSpec[] = [...(opts.stdio ?? [opts.stdin ?? "ignore", "pipe", "pipe"])];
  // fd 3 is the rootless handshake; fd 4 the control socket.
  const extra: StdioSpec[] = opts.control ? ["pipe"] : [];
  if (!identity.rootless) {
    const [file, argv] = opts.tied
      ? ["setpriv", [...tie, "unshare", ...ns, "--", cmd, ...args]]
      : ns.length > 0
        ? ["unshare", [...ns, "--", cmd, ...args]]
        : [cmd, [...args]];
    const child = spawn(file, argv, {
      ...base,
      stdio: [...std, ...(extra.length > 0 ? ["ignore" as const] : []), ...extra],
    });
    await spawned(child, file);
    return child;
  }
  // setpriv execs unshare, which makes the user namespace itself: its pid is the one to map.
  const argv = [
    "unshare",
    "--user",
    ...ns,
    "--",
    "sh",
    "-c",
    opts.tied ? HANDSHAKE_TIED : HANDSHAKE,
    "sh",
    cmd,
    ...args,
  ];
  const child = spawn(opts.tied ? "setpriv" : argv[0]!, opts.tied ? [...tie, ...argv] : argv.slice(1), {
    ...base,
    stdio: [...std, "pipe", ...extra],
  });
  await spawned(child, "unshare");
  const ctl = child.stdio[3] as Readable & Writable;
  const errors: Buffer[] = [];
  child.stderr?.on("data", (c: Buffer) => errors.push(c));
  try {
    await new Promise<void>((resolve, reject) => {
      ctl.once("data", () => resolve());
      child.once("exit", (code) =>
        reject(
          new SandboxError(
            "SANDBOX_FAILED",
            `cannot create a user namespace (unshare exited ${code}): ${Buffer.concat(errors).toString().trim()}${DOCTOR}`,
          ),
        ),
      );
    });
    await writeMaps(identity, child.pid!);
    // Tied: the socket stays open (the watcher's lifeline) and closes with this process or the helper.
    if (opts.tied) ctl.write("\n");
    else ctl.end("\n");
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  } finally {
    child.stderr?.removeAllListeners("data");
  }
  return child;
}

function spawned(child: ChildProcess, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) =>
      reject(
        new SandboxError("SANDBOX_FAILED", `cannot start ${file}: ${err.message}${DOCTOR}`, { cause: err }),
      ),
    );
  });
}

/** writeMaps gives the namespace of `pid` its uid and gid maps. */
async function writeMaps(identity: Identity, pid: number): Promise<void> {
  try {
    if (identity.singleId) {
      // Without newgidmap an unprivileged process may map only its own gid, after denying setgroups.
      await writeFile(`/proc/${pid}/setgroups`, "deny");
      await writeFile(`/proc/${pid}/uid_map`, mapArgs(identity.uid).join(" "));
      await writeFile(`/proc/${pid}/gid_map`, mapArgs(identity.gid).join(" "));
      return;
    }
    await Promise.all([
      exec("newuidmap", [String(pid), ...mapArgs(identity.uid)]),
      exec("newgidmap", [String(pid), ...mapArgs(identity.gid)]),
    ]);
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new SandboxError("SANDBOX_FAILED", `cannot map ids into the user namespace: ${detail}${DOCTOR}`, {
      cause: err,
    });
  }
}

/** NsResult is what a helper printed. */
export interface NsResult {
  stdout: Buffer;
  stderr: string;
}

/**
 * runInNamespace runs `cmd args` as the namespace's root (see spawnInNamespace),
 * feeds it `input`, and resolves with its output; a non-zero exit rejects
 * with SANDBOX_FAILED naming the command and its stderr.
 */
export async function runInNamespace(
  identity: Identity,
  cmd: string,
  args: readonly string[],
  opts: NamespaceOptions & { input?: Uint8Array | string; allowFailure?: boolean } = {},
): Promise<NsResult & { code: number | null }> {
  const child = await spawnInNamespace(identity, cmd, args, {
    ...opts,
    stdin: opts.input !== undefined ? "pipe" : "ignore",
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (c: Buffer) => out.push(c));
  child.stderr?.on("data", (c: Buffer) => err.push(c));
  if (opts.input !== undefined) {
    child.stdin?.on("error", () => {});
    child.stdin?.end(opts.input);
  }
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), code };
  if (code !== 0 && !opts.allowFailure) {
    throw new SandboxError(
      "SANDBOX_FAILED",
      `${cmd} ${args.slice(0, 3).join(" ")}${args.length > 3 ? " …" : ""} failed (exit ${code}): ${result.stderr.trim()}`,
    );
  }
  return result;
}
