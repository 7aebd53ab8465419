import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

/**
 * Helpers of the tests that put the store on hostile media: a small tmpfs
 * (a full disk) and a read-only bind mount. Mounting needs root; the tests
 * fail loudly (not skip) when not run as root, as CI runs them.
 */

const MAIN = join(import.meta.dirname, "..", "..", "..", "dist", "main.js");

export function requireRoot(): void {
  expect(process.getuid?.(), "this test mounts file systems: run it as root").toBe(0);
}

/** mountTmpfs mounts a tmpfs of `megabytes` on a fresh directory and returns it. */
export async function mountTmpfs(megabytes: number): Promise<string> {
  requireRoot();
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${megabytes}m`, "tmpfs", dir]);
  return dir;
}

/** bindReadOnly mounts `source` read-only on a fresh directory and returns it. */
export async function bindReadOnly(source: string): Promise<string> {
  requireRoot();
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-ro-"));
  execFileSync("mount", ["--bind", source, dir]);
  execFileSync("mount", ["-o", "remount,bind,ro", dir]);
  return dir;
}

/** unmount undoes mountTmpfs or bindReadOnly and removes the mount point. */
export async function unmount(dir: string | undefined): Promise<void> {
  if (dir === undefined) return;
  execFileSync("umount", [dir]);
  await rm(dir, { recursive: true, force: true });
}

/**
 * tsbuildProcess runs the built `tsbuild --root ROOT ARGS` as a child process:
 * an error that escapes the command (an unhandled rejection) kills a real
 * process, which an in-process run would not show.
 */
export function tsbuildProcess(
  root: string,
  args: readonly string[],
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, "--root", root, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** expectCleanFailure checks a command failed with exit 1 and one `Error:` line matching `message`, no stack trace. */
export function expectCleanFailure(r: ReturnType<typeof tsbuildProcess>, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.code).toBe(1);
}
