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
