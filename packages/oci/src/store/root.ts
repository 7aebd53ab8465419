import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { OciError } from "../errors.js";

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
  try {
    await mkdir(root, { recursive: true, mode: 0o700 });
  } catch (err) {
    // A file where the store (or one of its parents) should be: say that, not mkdir's EEXIST.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EEXIST" && code !== "ENOTDIR") throw err;
    throw new OciError("INVALID_LAYOUT", "the image store must be a directory, and this path is not one", {
      where: root,
      cause: err,
    });
  }
}
