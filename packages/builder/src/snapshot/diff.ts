import { accessSync, constants, lstatSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { comparePaths, type LayerEntry } from "@tsbuild/oci";
import { SandboxError } from "../errors.js";
import { type Identity, toContainerId } from "../sandbox/idmap.js";
import { runInNamespace, spawnInNamespace } from "../sandbox/namespace.js";
import type { LowerView } from "./lowers.js";
import { type ScanEntry, scanPaths } from "./scan.js";

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** isOverlayXattr names attributes overlayfs keeps for itself (never part of a layer). */
export function isOverlayXattr(name: string): boolean {
  return (
    name.startsWith("trusted.overlay.") ||
    name.startsWith("user.overlay.") ||
    name.startsWith("user.fuseoverlayfs.")
  );
}

/** layerXattrs are the attributes an entry carries into the layer. */
export function layerXattrs(x: Record<string, Buffer>): Record<string, Buffer> | undefined {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(x)) if (!isOverlayXattr(k) && k !== "security.selinux") out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

function isOpaque(x: Record<string, Buffer>): boolean {
  for (const k of ["trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"]) {
    if (x[k]?.toString() === "y") return true;
  }
  return false;
}

const TYPE_OF: Record<string, LayerEntry["type"]> = {
  f: "file",
  d: "dir",
  l: "symlink",
  c: "char",
  b: "block",
  p: "fifo",
};

function statType(st: Stats): string {
  if (st.isFile()) return "f";
  if (st.isDirectory()) return "d";
  if (st.isSymbolicLink()) return "l";
  if (st.isCharacterDevice()) return "c";
  if (st.isBlockDevice()) return "b";
  if (st.isFIFO()) return "p";
  return "s";
}

/** LowerStat is a lower layer's object as the step saw it (in-namespace owners). */
interface LowerStat {
  type: string;
  mode: number;
  uid: number | undefined;
  gid: number | undefined;
  mtimeNs: bigint;
  size: number;
  linkname: string;
  /** abs is the object's path in its layer directory. */
  abs: string;
}

/**
 * LowerStats answers "what did this path look like before the step" from
 * the lowers: by lstat where this process may look, and rootless, for paths
 * under directories only the namespace's root may enter (a 0700 directory
 * of another id), from one `find` run inside the namespace (prefetch).
 */
export class LowerStats {
  readonly #identity: Identity;
  readonly #view: LowerView;
  readonly #fromNamespace = new Map<string, LowerStat | undefined>();

  constructor(identity: Identity, view: LowerView) {
    this.#identity = identity;
    this.#view = view;
  }

  /** prefetch looks up, in the namespace, every path of `paths` this process cannot lstat itself. */
  async prefetch(paths: Iterable<string>): Promise<void> {
    const denied = [...paths].filter((p) => this.#view.probe(p) === "denied");
    if (denied.length === 0) return;
    const starts = denied.flatMap((p) => this.#view.dirs.map((d) => join(d, p)));
    const found = new Map<string, ScanEntry>();
    for (let i = 0; i < starts.length; i += 2000) {
      for (const e of await scanPaths(this.#identity, starts.slice(i, i + 2000))) found.set(e.path, e);
    }
    for (const p of denied) {
      let hit: LowerStat | undefined;
      for (let i = this.#view.dirs.length - 1; i >= 0; i--) {
        const abs = join(this.#view.dirs[i]!, p);
        const e = found.get(abs);
        if (!e) continue;
        // Rootless lowers hold no devices but whiteouts (0/0).
        if (e.type !== "c") hit = { ...e, abs };
        break;
      }
      this.#fromNamespace.set(p, hit);
    }
  }

  /** get is the topmost lower object at `rel`, undefined when absent or whited out. */
  get(rel: string): LowerStat | undefined {
    if (this.#fromNamespace.has(rel)) return this.#fromNamespace.get(rel);
    const found = this.#view.probe(rel);
    if (!found || found === "denied") return undefined;
    const abs = join(found.dir, rel);
    const st = found.stat;
    return {
      type: statType(st),
      mode: st.mode & 0o7777,
      uid: toContainerId(this.#identity.uid, st.uid),
      gid: toContainerId(this.#identity.gid, st.gid),
      mtimeNs: lstatSync(abs, { bigint: true }).mtimeNs,
      size: st.size,
      linkname: st.isSymbolicLink() ? readlinkSync(abs) : "",
      abs,
    };
  }
}

/** DiffContext is what turning a scanned tree into layer entries needs. */
export interface DiffContext {
  identity: Identity;
  /** root is the scanned directory (the upper dir, or the copied rootfs). */
  root: string;
  lowers: LowerView;
  /** lowerStats: prefetched with every scanned path before the diff. */
  lowerStats: LowerStats;
  /** sameBytes: byte comparisons made in the namespace for files this process may not read (prefetchBytes). */
  sameBytes?: ReadonlyMap<string, boolean>;
  /** untouched: paths the copy snapshotter saw with the same inode and ctime before and after the step. */
  untouched?: ReadonlySet<string>;
  /**
   * stubs are paths the sandbox created as mount targets (they did not exist
   * before the step): dropped when the step left them empty, as BuildKit does.
   */
  stubs: ReadonlySet<string>;
}

/**
 * linkedToNew lists the files that share an inode with a path the lowers do not have: `ln lower new`
 * copies the target up and docker stores it whole, with the new name as a hardlink to it, so such a
 * copy-up is kept even though its metadata did not change.
 */
export function linkedToNew(ctx: DiffContext, scanned: readonly ScanEntry[]): Set<string> {
  const byIno = new Map<bigint | number, ScanEntry[]>();
  for (const e of scanned) {
    if (e.type !== "f" || e.nlink < 2) continue;
    const list = byIno.get(e.ino) ?? [];
    list.push(e);
    byIno.set(e.ino, list);
  }
  const out = new Set<string>();
  for (const group of byIno.values()) {
    if (group.length < 2 || !group.some((e) => ctx.lowerStats.get(e.path) === undefined)) continue;
    for (const e of group) out.add(e.path);
  }
  return out;
}

/** lowerMatches says whether the scanned entry is the lower layers' object unchanged (a copy-up that changed nothing). */
export function lowerMatches(ctx: DiffContext, e: ScanEntry): boolean {
  if (ctx.untouched?.has(e.path)) return true;
  const l = ctx.lowerStats.get(e.path);
  if (!l) return false;
  if (l.type !== e.type || l.mode !== e.mode || l.uid !== e.uid || l.gid !== e.gid) return false;
  if (l.mtimeNs !== e.mtimeNs) return false;
  if (layerXattrs(e.xattrs) !== undefined) return false; // lower xattrs are not compared: keep the entry
  if (e.type === "l") return l.linkname === e.linkname;
  if (e.type === "c" || e.type === "b") return false;
  if (e.type === "f") {
    if (l.size !== e.size) return false;
    // Same size and the same mtime to the nanosecond: unchanged, unless the clock gave whole seconds (then compare bytes).
    if (e.mtimeNs % 1_000_000_000n !== 0n) return true;
    const same = ctx.sameBytes?.get(e.path);
    if (same !== undefined) return same;
    try {
      return readFileSync(l.abs).equals(readFileSync(join(ctx.root, e.path)));
    } catch {
      return false;
    }
  }
  return true;
}

function readable(abs: string): boolean {
  try {
    accessSync(abs, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * prefetchBytes compares, in one namespace run, the files whose metadata
 * matches the lowers' to the second (so only bytes can tell) but that this
 * process may not read itself; lowerMatches then uses the answers.
 */
export async function prefetchBytes(
  ctx: DiffContext,
  scanned: readonly ScanEntry[],
): Promise<Map<string, boolean>> {
  const pairs: Array<[string, string, string]> = [];
  for (const e of scanned) {
    if (e.type !== "f" || e.mtimeNs % 1_000_000_000n !== 0n || ctx.untouched?.has(e.path)) continue;
    const l = ctx.lowerStats.get(e.path);
    if (l?.type !== "f" || l.size !== e.size || l.mtimeNs !== e.mtimeNs || l.mode !== e.mode) continue;
    if (l.uid !== e.uid || l.gid !== e.gid) continue;
    const upper = join(ctx.root, e.path);
    if (readable(l.abs) && readable(upper)) continue;
    pairs.push([e.path, l.abs, upper]);
  }
  const out = new Map<string, boolean>();
  if (pairs.length === 0) return out;
  const script = `while [ $# -gt 0 ]; do if cmp -s -- "$1" "$2"; then printf 1; else printf 0; fi; shift 2; done`;
  const r = await runInNamespace(ctx.identity, "sh", [
    "-c",
    script,
    "sh",
    ...pairs.flatMap(([, a, b]) => [a, b]),
  ]);
  const answers = r.stdout.toString();
  for (const [i, [path]] of pairs.entries()) out.set(path, answers[i] === "1");
  return out;
}

/** contentOf is a file's bytes for the layer: read directly when this process can, else through the namespace's root. */
export function contentOf(identity: Identity, abs: string): LayerEntry["content"] {
  try {
    accessSync(abs, constants.R_OK);
    return { file: abs };
  } catch {
    return () => catInNamespace(identity, abs);
  }
}

function catInNamespace(identity: Identity, abs: string): Readable {
  const out = new PassThrough();
  spawnInNamespace(identity, "cat", ["--", abs]).then(
    (child) => {
      child.stdout!.pipe(out);
      child.on("close", (code) => {
        if (code !== 0)
          out.destroy(new SandboxError("SNAPSHOT_FAILED", `cannot read ${abs} (cat exited ${code})`));
      });
    },
    (err: unknown) => out.destroy(err as Error),
  );
  return out;
}

/** entryOf is the layer entry of a scanned object (a file's content read from `root`). */
export function entryOf(ctx: DiffContext, e: ScanEntry, rdev?: { major: number; minor: number }): LayerEntry {
  const entry: LayerEntry = {
    path: e.path,
    type: TYPE_OF[e.type] ?? "file",
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: Number(e.mtimeNs / 1_000_000_000n),
  };
  const x = layerXattrs(e.xattrs);
  if (x) entry.xattrs = x;
  if (e.type === "l") entry.linkname = e.linkname;
  if (e.type === "f") {
    entry.size = e.size;
    if (e.size > 0) entry.content = contentOf(ctx.identity, join(ctx.root, e.path));
  }
  if (rdev) {
    entry.devmajor = rdev.major;
    entry.devminor = rdev.minor;
  }
  return entry;
}

/** whiteoutMtime is a whiteout's mtime: its directory's, so overlay and copy diffs agree. */
export function whiteoutMtime(byPath: ReadonlyMap<string, ScanEntry>, dir: string): number {
  return Number((byPath.get(dir)?.mtimeNs ?? 0n) / 1_000_000_000n);
}

function whiteoutEntry(path: string, mtime: number): LayerEntry {
  return { path, type: "file", mode: 0, uid: 0, gid: 0, mtime };
}

function parentOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "" : p.slice(0, i);
}

function baseOf(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** deviceNumbers reads a device's major/minor; rootless the only devices a step can make are whiteouts (0/0). */
function deviceNumbers(abs: string): { major: number; minor: number } {
  try {
    const rdev = lstatSync(abs).rdev;
    return {
      major: Number((BigInt(rdev) >> 8n) & 0xfffn),
      minor: Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn)),
    };
  } catch {
    return { major: 0, minor: 0 };
  }
}

/**
 * upperDiff maps an overlay upper dir to layer entries: a 0/0 character
 * device (or fuse-overlayfs's `.wh.NAME` file) becomes `.wh.NAME`, an opaque
 * directory (`trusted.overlay.opaque`, `user.overlay.opaque`, or a
 * `.wh..wh..opq` file) its entry plus `.wh..wh..opq`; metadata-only changes
 * are full entries; objects copied up without changing (compared with the
 * lowers: type, mode, owner, mtime to the ns, size, link target, bytes when
 * the mtime is whole seconds) are dropped; parents of every entry are
 * included. An upper dir written with redirect_dir or metacopy is refused:
 * its files do not hold their data.
 */
export function upperDiff(ctx: DiffContext, scanned: readonly ScanEntry[]): LayerEntry[] {
  const byPath = new Map(scanned.map((e) => [e.path, e]));
  const noLower = new Set<string>(); // directories whose lower contents are hidden (opaque) or that are new
  const keep = new Map<string, LayerEntry>();
  const sorted = [...scanned].sort((a, b) => comparePaths(a.path, b.path));
  const linked = linkedToNew(ctx, scanned);
  for (const e of sorted) {
    for (const k of Object.keys(e.xattrs)) {
      if (/\.overlay\.(redirect|metacopy)$/.test(k)) {
        throw new SandboxError(
          "SNAPSHOT_FAILED",
          `the upper dir holds ${k} on ${e.path}: it was written with redirect_dir or metacopy and is not a diff`,
        );
      }
    }
    const parent = parentOf(e.path);
    const base = baseOf(e.path);
    const parentHidden = parent !== "" && noLower.has(parent);
    const dirMtime = whiteoutMtime(byPath, parent);
    // A whiteout or opaque marker with nothing below to hide (fuse-overlayfs leaves those) is dropped.
    const hides = (rel: string, dir: boolean): boolean =>
      !parentHidden && (dir ? ctx.lowerStats.get(rel)?.type === "d" : ctx.lowerStats.get(rel) !== undefined);
    if (e.type === "c") {
      const dev = deviceNumbers(join(ctx.root, e.path));
      if (dev.major === 0 && dev.minor === 0) {
        const wh = `${parent ? `${parent}/` : ""}${WH}${base}`;
        if (hides(e.path, false)) keep.set(wh, whiteoutEntry(wh, dirMtime));
        continue;
      }
    }
    if (e.type === "f" && base === OPAQUE) {
      if (parent !== "" && hides(parent, true)) keep.set(e.path, whiteoutEntry(e.path, dirMtime));
      noLower.add(parent);
      continue;
    }
    if (e.type === "f" && base.startsWith(WH)) {
      const victim = `${parent ? `${parent}/` : ""}${base.slice(WH.length)}`;
      if (hides(victim, false)) keep.set(e.path, whiteoutEntry(e.path, dirMtime));
      continue;
    }
    // A directory made where anything was deleted is opaque, and docker writes the marker even where a
    // non-directory was (nothing below it to hide): so do we.
    const opaque =
      e.type === "d" && isOpaque(e.xattrs) && !parentHidden && ctx.lowers.lstat(e.path) !== undefined;
    const unchanged = !parentHidden && !opaque && !linked.has(e.path) && lowerMatches(ctx, e);
    if (e.type === "d" && (parentHidden || opaque || !ctx.lowers.lstat(e.path)?.stat.isDirectory()))
      noLower.add(e.path);
    if (unchanged) continue;
    keep.set(
      e.path,
      entryOf(ctx, e, e.type === "c" || e.type === "b" ? deviceNumbers(join(ctx.root, e.path)) : undefined),
    );
    if (opaque)
      keep.set(`${e.path}/${OPAQUE}`, whiteoutEntry(`${e.path}/${OPAQUE}`, whiteoutMtime(byPath, e.path)));
  }
  dropStubs(ctx, keep, byPath);
  return finish(keep, byPath, ctx);
}

/**
 * dropStubs removes mount targets the sandbox created (deepest first) when
 * the step left them as it found them: an empty directory or empty file.
 * The directory that received a stub then differs from the lowers only by
 * its mtime; it is dropped too when nothing else in it changed.
 */
export function dropStubs(
  ctx: DiffContext,
  keep: Map<string, LayerEntry>,
  byPath: ReadonlyMap<string, ScanEntry>,
): void {
  const stubs = [...ctx.stubs].sort((a, b) => comparePaths(b, a));
  const touched = new Set<string>();
  for (const stub of stubs) {
    const e = keep.get(stub);
    if (!e) continue;
    const hasChildren = [...keep.keys()].some((k) => k.startsWith(`${stub}/`));
    const empty = e.type === "dir" ? !hasChildren : e.type === "file" && (e.size ?? 0) === 0;
    if (!empty) continue;
    keep.delete(stub);
    touched.add(parentOf(stub));
  }
  for (const dir of [...touched].sort((a, b) => comparePaths(b, a))) {
    if (dir === "" || ctx.stubs.has(dir)) continue;
    const e = byPath.get(dir);
    const lower = ctx.lowers.lstat(dir);
    if (!e || !lower || !keep.has(dir)) continue;
    if ([...keep.keys()].some((k) => k.startsWith(`${dir}/`))) continue;
    if (lowerMatches(ctx, { ...e, mtimeNs: lstatSync(join(lower.dir, dir), { bigint: true }).mtimeNs }))
      keep.delete(dir);
  }
}

/** finish adds the parent directories of every entry, links hardlinked files, and sorts into layer order. */
export function finish(
  keep: Map<string, LayerEntry>,
  byPath: ReadonlyMap<string, ScanEntry>,
  ctx: DiffContext,
): LayerEntry[] {
  for (const path of [...keep.keys()]) {
    for (let p = parentOf(path); p !== ""; p = parentOf(p)) {
      if (keep.has(p)) continue;
      const e = byPath.get(p);
      if (e) keep.set(p, entryOf(ctx, e));
    }
  }
  const entries = [...keep.values()].sort((a, b) => comparePaths(a.path, b.path));
  const firstOfInode = new Map<number, string>();
  for (const entry of entries) {
    const e = byPath.get(entry.path);
    if (e?.type !== "f" || e.nlink < 2) continue;
    const first = firstOfInode.get(e.ino);
    if (first === undefined) {
      firstOfInode.set(e.ino, entry.path);
      continue;
    }
    entry.type = "hardlink";
    entry.linkname = first;
    delete entry.content;
    delete entry.size;
  }
  return entries;
}
