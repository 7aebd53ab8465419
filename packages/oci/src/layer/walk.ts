import { lstatSync, readlinkSync, type Stats } from "node:fs";
import { lstat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { OciError } from "../errors.js";
import type { LayerEntry } from "./entry.js";
import { fsPath, pathFromBytes, pathToBytes, readDirNames } from "./path-bytes.js";
import { readTreeXattrs } from "./xattr.js";

/** WalkOptions controls how a directory becomes layer entries. */
export interface WalkOptions {
  /** prefix is prepended to every path ("app" puts the tree under app/). */
  prefix?: string;
  /** chown overrides the owner of every entry (COPY without --chown gives 0:0). */
  chown?: { uid: number; gid: number };
  /**
   * xattrs reads extended attributes (default true) with one `getfattr` run
   * beside the walk; overlayfs internals and SELinux labels are left out.
   * Without getfattr (Debian package `attr`) entries carry none.
   */
  xattrs?: boolean;
  signal?: AbortSignal;
}

/** YIELD_EVERY is how many entries are stat'ed synchronously before the walk lets the event loop run. */
const YIELD_EVERY = 512;

function devMajor(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}

function devMinor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(pathToBytes(a), pathToBytes(b));
}

/**
 * walkDirectory lists `dir` as layer entries in layer order (depth-first,
 * siblings byte-wise sorted, parents first). The root itself is not an entry.
 * Files that share an inode (dev+ino) become hardlinks to the first path.
 * Sockets are skipped, as docker does. Extended attributes come from one
 * `getfattr` process run in parallel with the walk (Node has no xattr API).
 *
 * Names that are not valid UTF-8 (and symlink targets) keep their bytes: they
 * appear in `path`, `linkname` and `content.file` with those bytes escaped as
 * path-bytes.ts describes. A caller (COPY, import) passes the entries on to
 * createLayer unchanged, which writes the original bytes into the tar as GNU
 * tar does; to open such a file itself, it uses fsPath(content.file).
 *
 * The walk uses synchronous lstat/readdir in slices: on a warm page cache that
 * is ~6x faster than the promise API (each async call is a threadpool round
 * trip, and the threadpool is busy compressing), and it yields to the event
 * loop every few hundred entries.
 */
export async function walkDirectory(dir: string, opts: WalkOptions = {}): Promise<LayerEntry[]> {
  const root = resolve(dir);
  const xattrsRead = opts.xattrs === false ? undefined : readTreeXattrs(root);
  const out: LayerEntry[] = [];
  const absPaths: string[] = [];
  const add = (abs: string, e: LayerEntry): void => {
    out.push(e);
    absPaths.push(abs);
  };
  const inodes = new Map<string, string>();
  const prefix = opts.prefix ? opts.prefix.replace(/^\/+|\/+$/g, "") : "";
  const rootStat = await lstat(fsPath(dir)).catch((cause: unknown) => {
    throw new OciError("INVALID_LAYOUT", `cannot read layer source directory: ${String(cause)}`, {
      where: dir,
      cause,
    });
  });
  if (!rootStat.isDirectory())
    throw new OciError("INVALID_LAYOUT", "layer source is not a directory", { where: dir });

  let sinceYield = 0;
  async function visit(abs: string, rel: string): Promise<void> {
    opts.signal?.throwIfAborted();
    const names = readDirNames(abs).sort(byteCompare);
    for (const name of names) {
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await yieldToLoop();
        opts.signal?.throwIfAborted();
      }
      const childAbs = join(abs, name);
      const st: Stats = lstatSync(fsPath(childAbs));
      const childRel = rel ? `${rel}/${name}` : name;
      const base: LayerEntry = {
        path: childRel,
        type: "file",
        mode: Number(st.mode) & 0o7777,
        uid: opts.chown ? opts.chown.uid : Number(st.uid),
        gid: opts.chown ? opts.chown.gid : Number(st.gid),
        mtime: Math.floor(Number(st.mtimeMs) / 1000),
      };
      if (st.isDirectory()) {
        add(childAbs, { ...base, type: "dir" });
        await visit(childAbs, childRel);
      } else if (st.isFile()) {
        if (Number(st.nlink) > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = inodes.get(key);
          if (first !== undefined) {
            add(childAbs, { ...base, type: "hardlink", linkname: first });
            continue;
          }
          inodes.set(key, childRel);
        }
        add(childAbs, { ...base, content: { file: childAbs }, size: Number(st.size) });
      } else if (st.isSymbolicLink()) {
        const target = pathFromBytes(readlinkSync(fsPath(childAbs), { encoding: "buffer" }));
        add(childAbs, { ...base, type: "symlink", linkname: target });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        add(childAbs, {
          ...base,
          type: st.isCharacterDevice() ? "char" : "block",
          devmajor: devMajor(Number(st.rdev)),
          devminor: devMinor(Number(st.rdev)),
        });
      } else if (st.isFIFO()) {
        add(childAbs, { ...base, type: "fifo" });
      }
      // sockets: skipped, as docker's archiver does.
    }
  }

  await visit(root, "");
  const xattrs = await xattrsRead;
  if (xattrs?.size) {
    for (let i = 0; i < out.length; i++) {
      const x = xattrs.get(absPaths[i]!);
      if (x && out[i]!.type !== "hardlink") out[i]!.xattrs = x;
    }
  }
  if (prefix) {
    const parts = prefix.split("/");
    const parents: LayerEntry[] = [];
    for (let i = 1; i <= parts.length; i++) {
      parents.push({
        path: parts.slice(0, i).join("/"),
        type: "dir",
        mode: Number(rootStat.mode) & 0o7777,
        uid: opts.chown ? opts.chown.uid : Number(rootStat.uid),
        gid: opts.chown ? opts.chown.gid : Number(rootStat.gid),
        mtime: Math.floor(Number(rootStat.mtimeMs) / 1000),
      });
    }
    for (const e of out) {
      e.path = `${prefix}/${e.path}`;
      if (e.type === "hardlink") e.linkname = `${prefix}/${e.linkname}`;
    }
    return [...parents, ...out];
  }
  return out;
}
