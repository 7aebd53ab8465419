import { createHash } from "node:crypto";
import { closeSync, constants, lstatSync, openSync, readlinkSync, readSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fsPath, type LayerEntry, type LayerEntryType, pathFromBytes } from "@tsbuild/oci";
import type { ContextEntry, ContextEntryKind } from "../dockerfile/dockerignore/context.js";
import { BuildError } from "../errors.js";
import { cleanRel, type FsNode, type FsView } from "./fsview.js";
import { extractFiles, type LayerRef, type OpenLayer } from "./layer-index.js";
import { type FileStat, type ScanBatch, type ScanInput, type ScannedFile, scanFiles } from "./scan.js";
import type { StatCache } from "./stat-cache.js";

/** SourceNode is one path of a COPY source tree (the context, a stage, an image): an FsNode without its layer. */
export interface SourceNode extends Omit<FsNode, "layer"> {
  /** inode identifies hardlinked files (same value, same file). */
  inode?: string;
}

/**
 * SourceFs is a read-only tree COPY and ADD read from: relative "/"-separated paths, "" the root. Symlinks
 * are never followed unless `resolve` is asked to; nothing resolves outside the root.
 */
export interface SourceFs {
  /** kind says where the tree is, for messages and keys. */
  readonly kind: "context" | "stage";
  node(path: string): SourceNode | undefined;
  /** children are the names (not paths) in a directory, sorted byte-wise. */
  children(path: string): string[];
  /** resolve follows symlinks inside the root (BuildKit's RootPath); an escape is an error. */
  resolve(path: string): string;
  /** prepare makes the content of these files readable (a stage extracts them from its layers). */
  prepare(paths: readonly string[], signal?: AbortSignal): Promise<void>;
  content(path: string): LayerEntry["content"];
  close(): Promise<void>;
}

/** readLink reads a symlink's target keeping bytes that are not UTF-8. */
function readLink(path: string): string {
  return pathFromBytes(readlinkSync(fsPath(path), { encoding: "buffer" }));
}

/** followScoped resolves symlinks of `path` with `readlink` staying under the root, as RootPath does. */
function followScoped(path: string, link: (p: string) => string | undefined, where: string): string {
  let pending = cleanRel(path).split("/").filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const seg = pending.shift()!;
    if (seg === "..") {
      if (done.length === 0) {
        throw new BuildError(
          "SOURCE_ESCAPES_CONTEXT",
          `${where}: ${JSON.stringify(path)} leads outside the build context`,
        );
      }
      done.pop();
      continue;
    }
    if (seg === ".") continue;
    const target = link([...done, seg].join("/"));
    if (target === undefined) {
      done.push(seg);
      continue;
    }
    if (++hops > 255)
      throw new BuildError("SOURCE_NOT_FOUND", `${where}: too many symbolic links in ${path}`);
    if (target.startsWith("/")) {
      throw new BuildError(
        "SOURCE_ESCAPES_CONTEXT",
        `${where}: ${JSON.stringify(path)} is a symbolic link to ${target}, outside the build context`,
      );
    }
    pending = [...target.split("/").filter(Boolean), ...pending];
  }
  return done.join("/");
}

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK } = constants;

/** typeOfMode is the entry type an lstat mode says (undefined for a socket). */
function typeOfMode(mode: number): LayerEntryType | undefined {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    case S_IFIFO:
      return "fifo";
    case S_IFCHR:
      return "char";
    case S_IFBLK:
      return "block";
    default:
      return undefined;
  }
}

/**
 * ContextFs is the build context as docker sends it: the paths .dockerignore lets through, with their
 * metadata read from disk. File contents are hashed through the stat cache for step keys.
 */
export class ContextFs implements SourceFs {
  readonly kind = "context" as const;
  /** #kinds is what the walk saw at each included path (from the directory listing, no stat). */
  readonly #kinds = new Map<string, ContextEntryKind>();
  readonly #children = new Map<string, string[]>();
  readonly #stats = new Map<string, FileStat | null>();
  /** #digests are the digests a scan found for the files it stat'ed (the same stat as in #stats). */
  readonly #digests = new Map<string, string>();

  /** `entries` as the walk gives them (listContext's: clean paths, parents first, names sorted byte-wise). */
  constructor(
    readonly root: string,
    entries: readonly ContextEntry[],
    readonly hashes: StatCache,
  ) {
    this.#kinds.set("", "directory");
    this.#children.set("", []);
    for (const e of entries) {
      const p = e.path;
      if (this.#kinds.has(p)) continue;
      this.#kinds.set(p, e.kind);
      const slash = p.lastIndexOf("/");
      const parent = slash < 0 ? "" : p.slice(0, slash);
      let list = this.#children.get(parent);
      if (!list) {
        list = [];
        this.#children.set(parent, list);
      }
      list.push(p.slice(slash + 1));
    }
  }

  /** abs is the path on disk of a clean relative path. */
  abs(path: string): string {
    return path === "" ? this.root : `${this.root}/${path}`;
  }

  stat(path: string): FileStat | undefined {
    const p = cleanRel(path);
    if (!this.#kinds.has(p)) return undefined;
    let st = this.#stats.get(p);
    if (st === undefined) {
      try {
        st = lstatSync(fsPath(this.abs(p)));
      } catch {
        st = null;
      }
      this.#stats.set(p, st);
    }
    return st ?? undefined;
  }

  node(path: string): SourceNode | undefined {
    const st = this.stat(path);
    if (!st) return undefined;
    const type = typeOfMode(st.mode);
    if (!type) return undefined;
    const n: SourceNode = {
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: type === "file" ? st.size : 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      inode: `${st.dev}:${st.ino}`,
    };
    if (type === "symlink") n.linkname = readLink(this.abs(cleanRel(path)));
    return n;
  }

  /**
   * treeDigest hashes what a context source holds for its key: for every path under it (the source
   * itself first, then its children in byte order; a symlink is not followed), its path under the source,
   * type, permission bits, size, link target and content digest. It streams into one hash in chunks, so
   * a large tree becomes neither a large array nor a call into the hash per path.
   */
  treeDigest(path: string): string {
    const h = createHash("sha256");
    let chunk = "";
    const walk = (p: string, rel: string) => {
      const st = this.#stats.get(p) ?? this.stat(p);
      if (!st) return;
      const type = typeOfMode(st.mode);
      if (!type) return;
      const file = type === "file";
      const link = type === "symlink" ? readLink(this.abs(p)) : "";
      const digest = file ? (this.#digests.get(p) ?? this.digest(p)) : "";
      chunk += `${rel}\0${type}\0${st.mode & 0o7777}\0${file ? st.size : 0}\0${link}\0${digest}\n`;
      if (chunk.length > 65536) {
        h.update(chunk);
        chunk = "";
      }
      if (type === "dir")
        for (const c of this.#children.get(p) ?? []) walk(p ? `${p}/${c}` : c, rel ? `${rel}/${c}` : c);
    };
    walk(this.resolve(path), "");
    h.update(chunk);
    return `sha256:${h.digest("hex")}`;
  }

  children(path: string): string[] {
    return this.#children.get(cleanRel(path)) ?? [];
  }

  resolve(path: string): string {
    return followScoped(
      path,
      (p) => (this.#kinds.get(p) === "symlink" ? readLink(this.abs(p)) : undefined),
      "build context",
    );
  }

  async prepare(): Promise<void> {}

  content(path: string): LayerEntry["content"] {
    return { file: this.abs(cleanRel(path)) };
  }

  /** digest is a file's content digest, from the stat cache when size, mtime, inode and mode are unchanged. */
  digest(path: string): string {
    const p = cleanRel(path);
    const st = this.stat(p)!;
    return this.hashes.digest(p, st, () => hashFileSync(this.abs(p)));
  }

  /**
   * prehash stats and hashes, on every core, the regular files under `paths` that were not stat'ed yet,
   * so the key's walk (treeDigest) finds them all known: a fresh runner's first build of a large
   * context spends a fraction of the time one thread takes, and a file the stat cache knows unchanged
   * costs one lstat. Errors are left for the key's own walk to report.
   */
  prehash(paths: readonly string[]): Promise<void> {
    return this.#serial(() => this.#prehash(paths));
  }

  /**
   * adopt takes what a scan made while the context was listed (ScanAhead), before any later prehash: every
   * path listed under `roots` was sent to it, so a prehash of a root has nothing left to do.
   */
  adopt(batches: Promise<ScanBatch[]>, roots: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      for (const { rels, scanned } of await batches)
        for (let i = 0; i < rels.length; i++) {
          const r = scanned[i];
          if (r) this.#take(rels[i]!, r);
        }
      for (const r of roots) this.#prehashed.add(r);
    });
  }

  /** One scan at a time: a step's prehash waits for the warm-up's and finds its files done. */
  #serial(f: () => Promise<void>): Promise<void> {
    this.#scanning = this.#scanning.catch(() => {}).then(f);
    return this.#scanning;
  }

  #scanning: Promise<void> = Promise.resolve();
  /** #prehashed are the paths whose trees a prehash went through: nothing under them is left to scan. */
  readonly #prehashed = new Set<string>();

  #take(rel: string, r: ScannedFile): void {
    if (!this.#kinds.has(rel) || this.#stats.has(rel)) return;
    this.#stats.set(rel, r.stat);
    if ((r.stat.mode & S_IFMT) !== S_IFREG) return;
    if (r.digest) this.hashes.set(rel, r.stat, r.digest);
    this.#digests.set(rel, r.digest ?? this.hashes.digest(rel, r.stat, () => hashFileSync(this.abs(rel))));
  }

  /** scanInput is a context file as a scan takes it: its path on disk and what the stat cache knows. */
  scanInput(rel: string): ScanInput {
    return { path: fsPath(this.abs(rel)), known: this.hashes.known(rel) };
  }

  async #prehash(paths: readonly string[]): Promise<void> {
    const todo: string[] = [];
    const walk = (p: string) => {
      const kind = this.#kinds.get(p);
      if (kind === "file") {
        if (!this.#stats.has(p)) todo.push(p);
      } else if (kind === "directory") for (const c of this.#children.get(p) ?? []) walk(p ? `${p}/${c}` : c);
    };
    for (const p of paths) {
      try {
        const root = this.resolve(p);
        if (this.#prehashed.has(root)) continue;
        walk(root);
        this.#prehashed.add(root);
      } catch {
        // an escaping or broken path: the key's own walk reports it
      }
    }
    if (todo.length === 0) return;
    const scanned = await scanFiles(todo.map((p) => this.scanInput(p)));
    for (let i = 0; i < todo.length; i++) {
      const r = scanned[i];
      if (r) this.#take(todo[i]!, r);
    }
  }

  async close(): Promise<void> {}
}

const BUF = Buffer.allocUnsafe(1024 * 1024);

/** hashFileSync is sha256 of a file, read synchronously in 1 MiB slices (fast on a warm page cache). */
export function hashFileSync(path: string): string {
  const h = createHash("sha256");
  const fd = openSync(fsPath(path), "r");
  try {
    for (;;) {
      const n = readSync(fd, BUF, 0, BUF.length, null);
      if (n === 0) break;
      h.update(BUF.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return `sha256:${h.digest("hex")}`;
}

/**
 * StageFs is the root filesystem another stage (or an image) left: metadata from its FsView, contents
 * extracted on demand from its layer blobs into a temp dir.
 */
export class StageFs implements SourceFs {
  readonly kind = "stage" as const;
  #tmp: string | undefined;
  readonly #ready = new Set<string>();

  constructor(
    readonly view: FsView,
    readonly layers: readonly LayerRef[],
    readonly open: OpenLayer,
  ) {}

  node(path: string): SourceNode | undefined {
    const p = cleanRel(path);
    if (p === "") return { type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 };
    const n = this.view.get(p);
    if (!n) return undefined;
    if (n.type === "hardlink") {
      const t = this.view.get(n.linkname ?? "");
      if (!t) return undefined;
      return { ...t, type: t.type, inode: `l:${n.linkname}` };
    }
    const out: SourceNode = {
      type: n.type,
      mode: n.mode,
      uid: n.uid,
      gid: n.gid,
      size: n.size,
      mtime: n.mtime,
    };
    if (n.linkname !== undefined) out.linkname = n.linkname;
    if (n.type === "file") out.inode = `l:${p}`;
    return out;
  }

  children(path: string): string[] {
    const p = cleanRel(path);
    const prefix = p === "" ? "" : `${p}/`;
    return this.view
      .children(p)
      .map((c) => c.slice(prefix.length))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  resolve(path: string): string {
    return this.view.resolve(path);
  }

  /** #holder is the path whose layer entry holds a file's bytes (a hardlink's target). */
  #holder(path: string): string {
    const n = this.view.get(path);
    return n?.type === "hardlink" ? cleanRel(n.linkname ?? "") : path;
  }

  async prepare(paths: readonly string[], signal?: AbortSignal): Promise<void> {
    const wanted = new Map<number, Set<string>>();
    for (const raw of paths) {
      const p = this.#holder(cleanRel(raw));
      if (this.#ready.has(p)) continue;
      const n = this.view.get(p);
      if (n?.type !== "file") continue;
      let set = wanted.get(n.layer);
      if (!set) {
        set = new Set();
        wanted.set(n.layer, set);
      }
      set.add(p);
      this.#ready.add(p);
    }
    if (wanted.size === 0) return;
    this.#tmp ??= await mkdtemp(join(tmpdir(), "tsbuild-stage-"));
    await extractFiles(this.open, this.layers, wanted, this.#tmp, signal);
  }

  content(path: string): LayerEntry["content"] {
    const p = this.#holder(cleanRel(path));
    if (!this.#tmp || !this.#ready.has(p)) throw new Error(`internal: content of /${p} was not prepared`);
    return { file: join(this.#tmp, p) };
  }

  async close(): Promise<void> {
    if (this.#tmp) await rm(this.#tmp, { recursive: true, force: true });
    this.#tmp = undefined;
    this.#ready.clear();
  }
}
