import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * defaultStoreRoot is where the local image store lives when `--root` is not
 * given: `$TSBUILD_ROOT`, else `$XDG_DATA_HOME/tsbuild`, else
 * `~/.local/share/tsbuild` (the XDG default), as DESIGN.md says.
 */
export function defaultStoreRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.TSBUILD_ROOT) return env.TSBUILD_ROOT;
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, "tsbuild");
  return join(env.HOME || homedir(), ".local", "share", "tsbuild");
}

/**
 * createStoreRoot makes the store directory, and any parent that is missing,
 * mode 0700 (before the umask): the store holds whole image filesystems, so
 * other users get no access by default, as podman's rootless storage and the
 * XDG base-directory spec ("create it with permission 0700") have it. A
 * directory that already exists keeps its mode.
 */
export async function createStoreRoot(root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o700 });
}
