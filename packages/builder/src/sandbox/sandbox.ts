import type { Snapshot } from "../snapshot/snapshotter.js";
import type { Identity } from "./idmap.js";
import type { SpecMount } from "./spec.js";
import type { ProcessUser } from "./user.js";

/** NetworkMode is RUN's --network: the host's network ("default" is the host's, as BuildKit without CNI) or none. */
export type NetworkMode = "default" | "host" | "none";

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
}

/** SandboxExit is how the process ended: its status (128+N when killed by signal N) and the tail of its output. */
export interface SandboxExit {
  exitCode: number;
  output: string;
}

/**
 * Sandbox runs one RUN process to completion. An abort kills the process
 * and everything it started, then rejects with the signal's reason; mounts
 * vanish with the sandbox's mount namespace.
 */
export interface Sandbox {
  run(o: SandboxRunOptions): Promise<SandboxExit>;
}
