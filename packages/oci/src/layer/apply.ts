import { execFileSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  constants,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  type Stats,
  symlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { OciError } from "../errors.js";
import { fsPath, hasEscapedBytes, readDirNames } from "./path-bytes.js";
import { type ReadTarOptions, type TarEntryInfo, tarEntries } from "./reader.js";
import { ScopedResolver, safeEntryPath } from "./scoped-path.js";
import { isHostXattr, writeXattrs } from "./xattr.js";

export interface ApplyLayerOptions extends ReadTarOptions {
  /** sameOwner applies uid/gid from the tar (lchown); default: when running as root. */
  sameOwner?: boolean;
  /**
   * devices says what to do with char/block device entries: "create" (mknod),
   * "skip" or "error". Default: create when root, else skip — as rootless
   * docker/BuildKit do, since an unprivileged user cannot mknod.
   */
  devices?: "create" | "skip" | "error";
  /** onWarning hears about entries that were skipped or only partly applied. */
  onWarning?: (message: string, where: string) => void;
}

export interface ApplyLayerResult {
  entries: number;
  whiteouts: number;
  skipped: string[];
}

const WH_PREFIX = ".wh.";
const WH_OPAQUE = ".wh..wh..opq";

function isRoot(): boolean {
  return typeof process.geteuid === "function" && process.geteuid() === 0;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(fsPath(p));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** writeBody creates `dest` (never following a symlink there) and copies exactly `size` bytes of the entry into it. */
async function writeBody(dest: string, body: Readable, size: number, where: string): Promise<void> {
  const fd = openSync(
    fsPath(dest),
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  let got = 0;
  try {
    const it = body[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (err) {
        throw new OciError(
          "INVALID_TAR",
          `entry data ends early or is unreadable after ${got} of ${size} bytes`,
          {
            where,
            cause: err,
          },
        );
      }
      if (r.done) break;
      const b = r.value;
      got += b.length;
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    }
  } finally {
    closeSync(fd);
  }
  if (got !== size) throw new OciError("INVALID_TAR", `entry ended after ${got} of ${size} bytes`, { where });
}

/**
 * applyLayer extracts a layer (gzip or plain tar, sniffed) onto `targetDir`,
 * applying whiteouts: `.wh.name` deletes `name` from lower layers, and
 * `.wh..wh..opq` empties its directory of everything not written by this same
 * layer. Hostile input never writes outside the target: absolute names are
 * taken relative to it, ".." that climbs out is rejected (UNSAFE_TAR_ENTRY),
 * symlinks in parent components resolve inside the target as under a chroot,
 * the final component is replaced rather than followed, hardlink targets must
 * exist inside the target, and header sizes are checked against a limit and
 * against the data really present. Extended attributes are set best-effort
 * with one `setfattr` run at the end (Node has no xattr API); failures and a
 * missing setfattr are reported through onWarning.
 *
 * Metadata calls are synchronous on purpose: a layer has tens of thousands of
 * entries and each promise fs call is a threadpool round trip that competes
 * with gunzip (4x slower in measurement).
 */
export async function applyLayer(
  source: AsyncIterable<Uint8Array>,
  targetDir: string,
  opts: ApplyLayerOptions = {},
): Promise<ApplyLayerResult> {
  const target = resolve(targetDir);
  const root = isRoot();
  const sameOwner = opts.sameOwner ?? root;
  const devices = opts.devices ?? (root ? "create" : "skip");
  const warn = opts.onWarning ?? (() => {});
  mkdirSync(fsPath(target), { recursive: true });
  // Not root: a lower layer's read-only directory gets u+wx while this layer writes into it, then its mode back.
  const euid = process.geteuid?.() ?? 0;
  const restoreModes = new Map<string, number>();
  const writableChecked = new Set<string>();
  const ensureWritable = (dir: string): void => {
    if (root || writableChecked.has(dir)) return;
    writableChecked.add(dir);
    const st = lstatSync(fsPath(dir));
    if (st.isDirectory() && st.uid === euid && (st.mode & 0o300) !== 0o300) {
      if (!restoreModes.has(dir)) restoreModes.set(dir, st.mode & 0o7777);
      chmodSync(fsPath(dir), (st.mode & 0o7777) | 0o300);
    }
  };
  const resolver = new ScopedResolver(target, ensureWritable);
  const invalidate = (): void => {
    resolver.invalidate();
    writableChecked.clear();
  };
  const created = new Set<string>();
  const dirMeta = new Map<string, { mode: number; mtime: number }>();
  const result: ApplyLayerResult = { entries: 0, whiteouts: 0, skipped: [] };
  const xattrItems: Array<{ path: string; xattrs: Record<string, Buffer> }> = [];

  for await (const { info, body } of tarEntries(source, opts)) {
    const parts = safeEntryPath(info.name);
    if (parts.length === 0) continue; // the root itself: keep the target's own metadata
    const rel = parts.join("/");
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);

    if (base.startsWith(WH_PREFIX)) {
      result.whiteouts++;
      const victim = base.slice(WH_PREFIX.length);
      if (victim === "" || victim === "." || victim === "..") {
        throw new OciError("UNSAFE_TAR_ENTRY", "whiteout names no file", { where: info.name });
      }
      const dir = resolver.resolveDir(parentParts, false, info.name);
      if (!dir) continue;
      ensureWritable(dir);
      if (base === WH_OPAQUE) {
        invalidate();
        const parentRel = parentParts.join("/");
        for (const name of readDirNames(dir)) {
          const childRel = parentRel ? `${parentRel}/${name}` : name;
          if (!created.has(childRel)) rmSync(fsPath(join(dir, name)), { recursive: true, force: true });
        }
      } else {
        // Removing a plain file cannot change how any path resolves: keep the caches then.
        const gone = lstatOrUndefined(join(dir, victim));
        if (gone?.isDirectory() || gone?.isSymbolicLink()) invalidate();
        if (gone) rmSync(fsPath(join(dir, victim)), { recursive: true, force: true });
      }
      continue;
    }

    if (info.type === undefined) {
      result.skipped.push(rel);
      warn(`unsupported tar entry type ${info.rawType}, skipped`, info.name);
      continue;
    }
    if ((info.type === "char" || info.type === "block") && devices !== "create") {
      if (devices === "error") {
        throw new OciError("UNSAFE_TAR_ENTRY", "device node entries are not allowed here", {
          where: info.name,
        });
      }
      result.skipped.push(rel);
      warn("device node skipped (not running as root)", info.name);
      continue;
    }

    const parent = resolver.resolveDir(parentParts, true, info.name)!;
    ensureWritable(parent);
    const dest = join(parent, base);
    const existing = lstatOrUndefined(dest);

    if (info.type === "dir") {
      if (existing && !existing.isDirectory()) {
        rmSync(fsPath(dest), { force: true });
        if (existing.isSymbolicLink()) invalidate();
      }
      if (!existing?.isDirectory()) mkdirSync(fsPath(dest), { mode: 0o700 });
    } else {
      if (existing) {
        if (existing.isDirectory() || existing.isSymbolicLink()) invalidate();
        rmSync(fsPath(dest), { recursive: true, force: true });
      }
      await createNonDir(info, dest, body, resolver, target);
    }

    if (sameOwner) lchownSync(fsPath(dest), info.uid, info.gid);
    if (info.type === "dir") {
      // Owner needs write access while children are created (matters when not root); the mode comes last.
      chmodSync(fsPath(dest), 0o700);
      dirMeta.set(dest, { mode: info.mode, mtime: info.mtime });
    } else {
      if (info.type !== "symlink") chmodSync(fsPath(dest), info.mode);
      lutimesSync(fsPath(dest), info.mtime, info.mtime);
    }
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(info.xattrs)) {
      if (!isHostXattr(k)) xattrs[k] = v;
    }
    if (Object.keys(xattrs).length > 0) xattrItems.push({ path: dest, xattrs });
    created.add(rel);
    result.entries++;
  }
  const xattrError = await writeXattrs(xattrItems);
  if (xattrError) warn(`extended attributes not (all) applied: ${xattrError}`, target);
  // Directory modes and mtimes last, deepest first, so writing children neither bumps the
  // mtime nor is refused by a read-only directory mode.
  for (const [dir, mode] of restoreModes) {
    if (!dirMeta.has(dir) && lstatOrUndefined(dir)?.isDirectory()) chmodSync(fsPath(dir), mode);
  }
  for (const [path, d] of [...dirMeta].reverse()) {
    // A later entry or whiteout may have replaced or removed the directory.
    if (!lstatOrUndefined(path)?.isDirectory()) continue;
    chmodSync(fsPath(path), d.mode);
    lutimesSync(fsPath(path), d.mtime, d.mtime);
  }
  return result;
}

async function createNonDir(
  info: TarEntryInfo,
  dest: string,
  body: Readable,
  resolver: ScopedResolver,
  target: string,
): Promise<void> {
  switch (info.type) {
    case "file":
      await writeBody(dest, body, info.size, info.name);
      return;
    case "symlink":
      symlinkSync(fsPath(info.linkname ?? ""), fsPath(dest));
      return;
    case "hardlink": {
      const tparts = safeEntryPath(info.linkname ?? "");
      if (tparts.length === 0)
        throw new OciError("UNSAFE_TAR_ENTRY", "hardlink to the layer root", { where: info.name });
      const tdir = resolver.resolveDir(tparts.slice(0, -1), false, info.name);
      const tabs = tdir ? join(tdir, tparts[tparts.length - 1]!) : undefined;
      const tst = tabs ? lstatOrUndefined(tabs) : undefined;
      if (!tabs || !tst) {
        throw new OciError("INVALID_TAR", `hardlink target ${JSON.stringify(info.linkname)} does not exist`, {
          where: info.name,
        });
      }
      if (tst.isDirectory()) {
        throw new OciError(
          "UNSAFE_TAR_ENTRY",
          `hardlink target ${JSON.stringify(info.linkname)} is a directory`,
          {
            where: info.name,
          },
        );
      }
      if (!tabs.startsWith(`${target}/`)) {
        throw new OciError("UNSAFE_TAR_ENTRY", "hardlink target resolves outside the layer root", {
          where: info.name,
        });
      }
      linkSync(fsPath(tabs), fsPath(dest));
      return;
    }
    case "fifo":
      makeNode(dest, (at) => execFileSync("mkfifo", ["-m", "600", "--", at]));
      return;
    case "char":
    case "block":
      makeNode(dest, (at) =>
        execFileSync("mknod", [
          "-m",
          "600",
          "--",
          at,
          info.type === "char" ? "c" : "b",
          String(info.devmajor),
          String(info.devminor),
        ]),
      );
      return;
    default:
      throw new OciError("INVALID_TAR", `cannot create entry of type ${info.rawType}`, { where: info.name });
  }
}

/**
 * makeNode runs `make` (mkfifo, mknod) to create `dest`. Arguments of a
 * process are text, so a name with bytes that are not UTF-8 is made under a
 * temporary ASCII name in the same directory and renamed to its bytes.
 */
function makeNode(dest: string, make: (at: string) => void): void {
  if (!hasEscapedBytes(dest)) {
    make(dest);
    return;
  }
  const tmp = join(dirname(dest), `.tsbuild-node-${process.pid}-${Date.now()}`);
  make(tmp);
  try {
    renameSync(tmp, fsPath(dest));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
