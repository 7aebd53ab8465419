import type { LayerEntry } from "@tsbuild/oci";
import { RunFailedError } from "../errors.js";
import { RuncSandbox } from "../sandbox/runc.js";
import type { NetworkMode } from "../sandbox/sandbox.js";
import type { SnapshotKind } from "../snapshot/snapshotter.js";
import { type RunMount, setupSandbox } from "./prepare.js";

export { canMount, probeSnapshotter, type RunMount, snapshotterFor, stubPaths } from "./prepare.js";

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

/**
 * runStep runs one RUN in a runc container on the given layers and returns
 * what it changed. A non-zero exit throws RunFailedError (command, exit
 * code, last lines of output); an abort kills the container and removes
 * every mount and temp dir before rejecting with the signal's reason.
 */
export async function runStep(o: RunStepOptions): Promise<RunStepResult> {
  const box = await setupSandbox({ ...o, hostname: o.hostname ?? "buildkitsandbox" });
  try {
    const exit = await new RuncSandbox().run({
      identity: box.identity,
      snapshot: box.snapshot,
      args: o.args,
      env: box.env,
      cwd: box.cwd,
      user: box.user,
      hostname: o.hostname ?? "buildkitsandbox",
      network: o.network,
      mounts: box.mounts,
      setup: box.setup,
      workDir: box.workDir,
      ...(o.runtime && { runtime: o.runtime }),
      ...(o.signal && { signal: o.signal }),
      ...(o.onOutput && { onOutput: o.onOutput }),
    });
    if (exit.exitCode !== 0) throw new RunFailedError(o.args, exit.exitCode, exit.output);
    o.signal?.throwIfAborted();
    const entries = await box.snapshot.diff(box.stubs);
    return {
      entries,
      changed: entries.length > 0,
      snapshotter: box.kind,
      warnings: box.warnings,
      cleanup: box.cleanup,
    };
  } catch (err) {
    await box.cleanup().catch(() => {});
    throw err;
  }
}
