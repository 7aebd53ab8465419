import type { Snapshot } from "../snapshot/snapshotter.js";
import type { Identity } from "./idmap.js";
import type { StdioSpec } from "./namespace.js";
import type { PortForward } from "./slirp.js";
import type { SpecMount } from "./spec.js";
import type { ProcessUser } from "./user.js";

/**
 * NetworkMode is RUN's --network: the host's network ("default" is the
 * host's, as BuildKit without CNI) or none (a network namespace with only
 * loopback); `tsbuild run` also has "private": a network namespace of its
 * own reaching the host's network through slirp4netns, which publishes ports.
 */
export type NetworkMode = "default" | "host" | "none" | "private";

/** SandboxRunOptions is one process to run in a snapshot's rootfs. */
export interface SandboxRunOptions {
  identity: Identity;
  snapshot: Snapshot;
  args: readonly string[];
  env: readonly string[];
  cwd: string;
  user: ProcessUser;
  hostname: string;
  network: NetworkMode;
  /** mounts besides the standard ones (resolved: sources are host paths). */
  mounts: readonly SpecMount[];
  /** setup are extra sh commands run in the sandbox's namespaces after the snapshot's own (secret ownership…). */
  setup: readonly string[];
  /** workDir is the step's private directory (bundle and runtime state go there). */
  workDir: string;
  /** runtime is the runc binary (default `runc` from PATH). */
  runtime?: string;
  signal?: AbortSignal;
  onOutput?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
  /**
   * stdio passes the process's stdin, stdout and stderr through as they are
   * (file descriptors of this process, "inherit", or "ignore": /dev/null);
   * by default stdin is /dev/null and the output goes to onOutput.
   */
  stdio?: readonly [StdioSpec, StdioSpec, StdioSpec];
  /** terminal gives the process a pseudo-terminal (runc's foreground console: runc's stdin must be a terminal). */
  terminal?: boolean;
  /** ports are published from the host through slirp4netns (network "private"). */
  ports?: readonly PortForward[];
  /** id is runc's name for the container (default tsbuild-PID-RANDOM); containers of different sandboxes never clash. */
  id?: string;
  /** onStart hears that the process is starting, with a function that delivers a signal to it (through runc). */
  onStart?: (kill: (signal: NodeJS.Signals) => void) => void;
}

/** SandboxExit is how the process ended: its status (128+N when killed by signal N) and the tail of its output. */
export interface SandboxExit {
  exitCode: number;
  output: string;
  /** startError is why runc could not start the process (its error-level log lines), when it could not. */
  startError?: string;
}

/**
 * Sandbox runs one RUN process to completion. An abort kills the process
 * and everything it started, then rejects with the signal's reason; mounts
 * vanish with the sandbox's mount namespace.
 */
export interface Sandbox {
  run(o: SandboxRunOptions): Promise<SandboxExit>;
}
