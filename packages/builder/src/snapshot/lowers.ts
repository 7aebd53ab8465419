import { lstatSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { resolveInRoot } from "./rootpath.js";

/**
 * LowerView looks paths up in a stack of unpacked layer directories (lowest
 * first) as overlayfs would show them, without mounting: the topmost layer
 * holding the path wins, a 0/0 character device (an overlay whiteout) hides
 * it. Opaque directories are not consulted (that needs an xattr read per
 * directory); callers use this only for small questions — does /etc/hosts
 * exist, what does /etc/passwd say, what did a copied-up file look like.
 */
export class LowerView {
  readonly dirs: readonly string[];

  constructor(lowerDirs: readonly string[]) {
    this.dirs = lowerDirs;
  }

  /** lstat finds `rel` ("etc/passwd") in the topmost layer; undefined when absent, whited out or unreadable. */
  lstat(rel: string): { stat: Stats; dir: string } | undefined {
    for (let i = this.dirs.length - 1; i >= 0; i--) {
      const dir = this.dirs[i]!;
      let st: Stats;
      try {
        st = lstatSync(join(dir, rel), { throwIfNoEntry: false }) as Stats;
      } catch {
        return undefined;
      }
      if (!st) continue;
      if (isWhiteout(st)) return undefined;
      return { stat: st, dir };
    }
    return undefined;
  }

  /** probe is lstat that tells "denied" (a directory on the way this process may not enter) from absent. */
  probe(rel: string): { stat: Stats; dir: string } | "denied" | undefined {
    for (let i = this.dirs.length - 1; i >= 0; i--) {
      const dir = this.dirs[i]!;
      let st: Stats | undefined;
      try {
        st = lstatSync(join(dir, rel), { throwIfNoEntry: false });
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EACCES" ? "denied" : undefined;
      }
      if (!st) continue;
      if (isWhiteout(st)) return undefined;
      return { stat: st, dir };
    }
    return undefined;
  }

  /** exists says whether `rel` exists in the merged view (unreadable counts as existing: callers keep what they found). */
  exists(rel: string): boolean {
    for (let i = this.dirs.length - 1; i >= 0; i--) {
      try {
        const st = lstatSync(join(this.dirs[i]!, rel), { throwIfNoEntry: false });
        if (!st) continue;
        return !isWhiteout(st);
      } catch {
        return true;
      }
    }
    return false;
  }

  /**
   * resolve follows the merged view's symlinks in `rel` inside the root (an absolute target restarts at
   * the root, ".." stops at it; the last name is followed too), as continuity's RootPath does: where a
   * mount on that path lands. After 255 links the rest is taken as it is.
   */
  resolve(rel: string): string {
    return resolveInRoot(rel, (cur) => {
      const found = this.lstat(cur);
      if (!found?.stat.isSymbolicLink()) return undefined;
      try {
        return readlinkSync(join(found.dir, cur), "utf8");
      } catch {
        return undefined;
      }
    });
  }

  /**
   * readText reads a file of the merged view, its symlinks followed inside the root (BuildKit opens
   * /etc/passwd through RootPath: an image may link it elsewhere); undefined when absent.
   */
  readText(rel: string): string | undefined {
    const path = this.resolve(rel);
    const found = this.lstat(path);
    if (!found?.stat.isFile()) return undefined;
    try {
      return readFileSync(join(found.dir, path), "utf8");
    } catch {
      return undefined;
    }
  }
}

/** isWhiteout is overlayfs's deletion marker: a character device 0/0. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}
