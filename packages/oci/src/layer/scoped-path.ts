import { lstatSync, mkdirSync, readlinkSync, type Stats } from "node:fs";
import { join, posix } from "node:path";
import { OciError } from "../errors.js";
import { fsPath, pathFromBytes, pathToBytes } from "./path-bytes.js";

/** MAX_PATH and MAX_NAME bound entry names the way Linux does (PATH_MAX, NAME_MAX). */
export const MAX_PATH = 4096;
export const MAX_NAME = 255;

/**
 * safeEntryPath turns a raw tar name into clean relative components. Absolute
 * names are neutralised (taken relative to the target, as docker does); names
 * that climb above the root with ".." are rejected, as are names longer than
 * Linux allows. An empty result means the root itself.
 */
export function safeEntryPath(name: string): string[] {
  if (name.includes("\u0000"))
    throw new OciError("UNSAFE_TAR_ENTRY", "entry name contains a NUL byte", { where: name });
  if (pathToBytes(name).length > MAX_PATH) {
    throw new OciError("UNSAFE_TAR_ENTRY", `entry name is longer than ${MAX_PATH} bytes`, {
      where: `${name.slice(0, 80)}…`,
    });
  }
  const clean = posix.normalize(name.replace(/^\/+/, ""));
  if (clean === ".." || clean.startsWith("../")) {
    throw new OciError("UNSAFE_TAR_ENTRY", "entry name climbs out of the layer root with '..'", {
      where: name,
    });
  }
  const parts = clean.split("/").filter((p) => p !== "" && p !== ".");
  for (const p of parts) {
    if (pathToBytes(p).length > MAX_NAME) {
      throw new OciError("UNSAFE_TAR_ENTRY", `a path component is longer than ${MAX_NAME} bytes`, {
        where: name,
      });
    }
  }
  return parts;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

/**
 * ScopedResolver resolves directory paths inside `root` the way a chroot
 * would: symlinks in parent components are followed, but an absolute target
 * restarts at `root` and ".." stops at `root`, so nothing resolves outside.
 * Results are cached; call `invalidate()` whenever a directory or symlink is
 * removed or replaced. It uses synchronous fs calls: applying a layer makes
 * tens of thousands of them, and each promise call is a threadpool round
 * trip competing with gunzip.
 */
export class ScopedResolver {
  readonly root: string;
  #cache = new Map<string, string[]>();
  readonly #beforeCreate: ((parentDir: string) => void) | undefined;

  /** `beforeCreate` runs on a directory before a missing child is created in it (to make it writable). */
  constructor(root: string, beforeCreate?: (parentDir: string) => void) {
    this.root = root;
    this.#beforeCreate = beforeCreate;
  }

  invalidate(): void {
    this.#cache.clear();
  }

  /** resolveDir returns the real absolute path for directory components `parts`, creating missing ones (0755) when `create`. Returns undefined when missing and not creating. */
  resolveDir(parts: string[], create: boolean, where: string): string | undefined {
    const key = parts.join("/");
    const hit = this.#cache.get(key);
    if (hit) return join(this.root, ...hit);
    let cur: string[] = [];
    let start = 0;
    // Reuse the longest cached prefix.
    for (let i = parts.length - 1; i > 0; i--) {
      const c = this.#cache.get(parts.slice(0, i).join("/"));
      if (c) {
        cur = [...c];
        start = i;
        break;
      }
    }
    const queue = parts.slice(start);
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        cur.pop();
        continue;
      }
      const abs = join(this.root, ...cur, c);
      let st: Stats | undefined;
      try {
        st = lstatSync(fsPath(abs));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (!st) {
        if (!create) return undefined;
        this.#beforeCreate?.(join(this.root, ...cur));
        mkdirSync(fsPath(abs), { mode: 0o755 });
        cur.push(c);
      } else if (st.isSymbolicLink()) {
        if (++hops > 40)
          throw new OciError("UNSAFE_TAR_ENTRY", "too many levels of symbolic links", { where });
        const target = pathFromBytes(readlinkSync(fsPath(abs), { encoding: "buffer" }));
        if (target.startsWith("/")) cur = [];
        queue.unshift(...target.split("/"));
      } else if (st.isDirectory()) {
        cur.push(c);
      } else {
        throw new OciError("INVALID_TAR", `parent path component ${JSON.stringify(c)} is not a directory`, {
          where,
        });
      }
    }
    this.#cache.set(key, cur);
    return join(this.root, ...cur);
  }
}
