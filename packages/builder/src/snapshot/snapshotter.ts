import type { LayerEntry } from "@tsbuild/oci";
import type { Identity } from "../sandbox/idmap.js";

/** SnapshotKind names how a step's rootfs is made: kernel overlayfs, fuse-overlayfs, or a plain copy. */
export type SnapshotKind = "overlay" | "fuse-overlayfs" | "copy";

/** SnapshotContext is what preparing one step's rootfs needs. */
export interface SnapshotContext {
  identity: Identity;
  /** lowerDirs are unpacked layer directories, lowest first (overlay form: whiteouts are 0/0 devices). */
  lowerDirs: readonly string[];
  /** workDir is an empty directory private to this step; the snapshot keeps everything in it. */
  workDir: string;
  signal?: AbortSignal;
}

/**
 * Snapshot is one step's writable rootfs. `setup` and `teardown` are sh
 * commands the sandbox runs inside its mount namespace around runc (so every
 * mount dies with the namespace, even when the build is killed); `diff` reads
 * what the step changed once the sandbox has exited.
 */
export interface Snapshot {
  readonly kind: SnapshotKind;
  readonly rootfs: string;
  readonly setup: readonly string[];
  readonly teardown: readonly string[];
  /** diff lists the step's changes as layer entries; `stubs` are mount targets the sandbox created. */
  diff(stubs: ReadonlySet<string>): Promise<LayerEntry[]>;
}

/** Snapshotter makes a Snapshot for a step; one per kind. */
export interface Snapshotter {
  readonly kind: SnapshotKind;
  prepare(ctx: SnapshotContext): Promise<Snapshot>;
}

/** shq quotes a word for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
