import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { chainIds, type ImageStore, type StoredImage } from "@tsbuild/oci";
import { BuildError, SandboxError } from "../errors.js";
import type { StdioSpec } from "../sandbox/namespace.js";
import { RuncSandbox } from "../sandbox/runc.js";
import type { PortForward } from "../sandbox/slirp.js";
import type { SnapshotKind } from "../snapshot/snapshotter.js";
import { UnpackedLayers } from "../snapshot/unpacked.js";
import { type RunMount, setupSandbox } from "./prepare.js";

/** RunImageOptions is `tsbuild run`: docker's `container run` flags, resolved to values. */
export interface RunImageOptions {
  /** command replaces the image's Cmd (docker's `IMAGE [COMMAND] [ARG...]`). */
  command?: readonly string[];
  /** entrypoint replaces the image's Entrypoint ("" clears it); the image's Cmd is then dropped, as docker does. */
  entrypoint?: string;
  /** env is added to the image's Env (KEY=VALUE; a later KEY wins). */
  env?: readonly string[];
  workdir?: string;
  /** user replaces the image's User ("name", "uid", "uid:gid", …). */
  user?: string;
  /** network: the host's (default), "none" (loopback only), or "private" (slirp4netns; needed by ports). */
  network?: "host" | "none" | "private";
  ports?: readonly PortForward[];
  mounts?: readonly RunMount[];
  /** terminal gives the process a pseudo-terminal; stdin must then be a terminal. */
  terminal?: boolean;
  /** stdio: the process's stdin ("ignore": /dev/null), stdout and stderr, passed through as they are. */
  stdio: readonly [StdioSpec, StdioSpec, StdioSpec];
  /** name is runc's container id (default the hostname's random id). */
  name?: string;
  runtime?: string;
  snapshotter?: SnapshotKind;
  /** onOutput receives what the process prints on a stdout or stderr given as "pipe". */
  onOutput?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
  /** signal: an abort before the process has started stops the setup and removes what it made (later ones kill it). */
  signal?: AbortSignal;
  /** onStart hears that the container is starting, with a function that signals its process. */
  onStart?: (kill: (signal: NodeJS.Signals) => void) => void;
  onWarning?: (message: string) => void;
}

/** RunImageResult is how the container's process ended (its status, 128+N when killed by signal N). */
export interface RunImageResult {
  exitCode: number;
  /** id is the container's id (its hostname): 12 hex digits, as docker shows them. */
  id: string;
}

/**
 * runImage runs an image of the store as `docker container run` does: its
 * Entrypoint and Cmd (or the replacements given), Env, WorkingDir and User,
 * on an overlay of the store's unpacked layers (the layer cache RUN steps
 * use: nothing of the image is copied), in the same runc sandbox as RUN.
 * Output and stdin pass through; the exit code is the process's. The
 * container's writable layer is removed when it exits: tsbuild keeps no
 * stopped containers. The layers are held against prune while it runs. A
 * command that does not exist throws COMMAND_NOT_FOUND, one that cannot be
 * executed COMMAND_NOT_EXECUTABLE (docker's 127 and 126).
 */
export async function runImage(
  store: ImageStore,
  image: StoredImage,
  o: RunImageOptions,
): Promise<RunImageResult> {
  const config = image.config.config ?? {};
  const entrypoint =
    o.entrypoint !== undefined ? (o.entrypoint === "" ? [] : [o.entrypoint]) : [...(config.Entrypoint ?? [])];
  const cmd =
    o.command && o.command.length > 0
      ? [...o.command]
      : o.entrypoint !== undefined
        ? []
        : [...(config.Cmd ?? [])];
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new BuildError("UNSUPPORTED", "no command specified");
  const id = randomBytes(6).toString("hex");
  const cache = new UnpackedLayers(join(store.root, "buildcache", "unpacked"), {
    ...(o.onWarning && { onWarning: o.onWarning }),
  });
  const layers = image.manifest.layers;
  const chain = chainIds(image.config.rootfs.diff_ids);
  if (chain.length !== layers.length) {
    throw new BuildError(
      "UNSUPPORTED",
      `image ${image.id} has ${layers.length} layers but ${chain.length} diff_ids in its config`,
    );
  }
  const hold = await cache.hold(chain);
  try {
    const lowerDirs: string[] = [];
    for (const [i, layer] of layers.entries()) {
      lowerDirs.push(await cache.ensure(chain[i]!, chain[i - 1], () => store.openBlob(layer)));
    }
    const box = await setupSandbox({
      lowerDirs,
      env: mergeEnv(config.Env ?? [], o.env ?? []),
      cwd: o.workdir ?? config.WorkingDir ?? "/",
      user: o.user ?? config.User ?? "",
      hostname: id,
      network: o.network ?? "host",
      ...(o.mounts && { mounts: o.mounts }),
      ...(o.snapshotter && { snapshotter: o.snapshotter }),
      tmpDir: join(store.root, "buildcache"),
      ...(o.signal && { signal: o.signal }),
    });
    try {
      for (const w of box.warnings) o.onWarning?.(w);
      const env = box.env;
      if (o.terminal && !env.some((e) => e.startsWith("TERM="))) env.push("TERM=xterm");
      const exit = await new RuncSandbox().run({
        identity: box.identity,
        snapshot: box.snapshot,
        args,
        env,
        cwd: box.cwd,
        user: box.user,
        hostname: id,
        network: o.network === "host" || o.network === undefined ? "host" : o.network,
        mounts: box.mounts,
        setup: box.setup,
        workDir: box.workDir,
        stdio: o.stdio,
        terminal: o.terminal ?? false,
        id: o.name ?? id,
        ...(o.ports && { ports: o.ports }),
        ...(o.runtime && { runtime: o.runtime }),
        ...(o.onStart && { onStart: o.onStart }),
        ...(o.onOutput && { onOutput: o.onOutput }),
        ...(o.signal && { signal: o.signal }),
      });
      if (exit.startError) throw startFailure(exit.startError);
      return { exitCode: exit.exitCode, id };
    } finally {
      await box.cleanup();
    }
  } finally {
    await hold.release();
  }
}

/** mergeEnv adds `extra` to `base`, a later KEY replacing an earlier one in place. */
function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = [...base];
  for (const e of extra) {
    const key = e.split("=", 1)[0];
    const at = out.findIndex((x) => x.split("=", 1)[0] === key);
    if (at >= 0) out[at] = e;
    else out.push(e);
  }
  return out;
}

/** startFailure turns runc's reason into docker's classes: 127 for a missing command, 126 for one that cannot run. */
function startFailure(message: string): SandboxError {
  const why =
    message
      .replace(/^runc run failed: /, "")
      .split("\n")
      .at(-1) ?? message;
  if (/executable file not found|no such file or directory/.test(why))
    return new SandboxError("COMMAND_NOT_FOUND", why);
  if (/permission denied|exec format error|is a directory/.test(why))
    return new SandboxError("COMMAND_NOT_EXECUTABLE", why);
  return new SandboxError("SANDBOX_FAILED", why);
}
