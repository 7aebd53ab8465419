import { mkdir, readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { OciError } from "../errors.js";
import { fileError } from "../layout/fsutil.js";

/** STORE_ENTRIES are the names a store that was being created may already hold before its oci-layout file. */
const STORE_ENTRIES = new Set([
  "blobs",
  "index.json",
  "oci-layout",
  ".tmp",
  "index.json.lock",
  "index.json.lock.break",
]);

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
  if (root === "") throw new OciError("INVALID_LAYOUT", "the image store path is empty");
  try {
    await mkdir(root, { recursive: true, mode: 0o700 });
  } catch (err) {
    // A file where the store (or one of its parents) should be: say that, not mkdir's EEXIST.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EEXIST" && code !== "ENOTDIR")
      throw fileError(err, `creating the image store ${root}`, root);
    throw new OciError("INVALID_LAYOUT", "the image store must be a directory, and this path is not one", {
      where: root,
      cause: err,
    });
  }
  await refuseForeignDirectory(root);
}

/**
 * refuseForeignDirectory stops a store from being made inside a directory
 * that holds something else (`--root /etc` wrote blobs/, index.json and
 * oci-layout into /etc): without an oci-layout file, the directory may hold
 * only what creating a store writes first.
 */
async function refuseForeignDirectory(root: string): Promise<void> {
  const isStore = await stat(join(root, "oci-layout")).then(
    () => true,
    () => false,
  );
  if (isStore) return;
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    throw fileError(err, `reading the image store directory ${root}`, root);
  }
  const foreign = names.filter((n) => !STORE_ENTRIES.has(n) && !n.startsWith(".tmp-"));
  if (foreign.length === 0) return;
  throw new OciError(
    "INVALID_LAYOUT",
    `not an image store: the directory is not empty (${JSON.stringify(foreign.sort()[0])}${foreign.length > 1 ? ` and ${foreign.length - 1} more` : ""}) and has no oci-layout file; give a new or empty directory, or an existing store`,
    { where: root },
  );
}
