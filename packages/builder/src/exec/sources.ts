import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readlinkSync, readSync, type Stats } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fsPath, type LayerEntry, type LayerEntryType, pathFromBytes } from "@tsbuild/oci";
import type { ContextEntry } from "../dockerfile/dockerignore/context.js";
import { BuildError } from "../errors.js";
import { cleanRel, type FsNode, type FsView } from "./fsview.js";
import { extractFiles, type LayerRef, type OpenLayer } from "./layer-index.js";
import { hashFiles } from "./parallel-hash.js";
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

function kindOf(st: Stats): LayerEntryType | undefined {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  return undefined;
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

/**
 * ContextFs is the build context as docker sends it: the paths .dockerignore lets through, with their
 * metadata read from disk. File contents are hashed through the stat cache for step keys.
 */
export class ContextFs implements SourceFs {
  readonly kind = "context" as const;
  readonly #included = new Map<string, string[]>();
  readonly #stats = new Map<string, Stats | null>();

  constructor(
    readonly root: string,
    entries: readonly ContextEntry[],
    readonly hashes: StatCache,
  ) {
    this.#included.set("", []);
    for (const e of entries) {
      const p = cleanRel(e.path);
      if (!this.#included.has(p)) this.#included.set(p, []);
      const slash = p.lastIndexOf("/");
      const parent = slash < 0 ? "" : p.slice(0, slash);
      let list = this.#included.get(parent);
      if (!list) {
        list = [];
        this.#included.set(parent, list);
      }
      list.push(p.slice(slash + 1));
    }
    for (const list of this.#included.values())
      list.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  abs(path: string): string {
    return join(this.root, path);
  }

  stat(path: string): Stats | undefined {
    const p = cleanRel(path);
    if (!this.#included.has(p)) return undefined;
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
    const type = kindOf(st);
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

  children(path: string): string[] {
    return this.#included.get(cleanRel(path)) ?? [];
  }

  resolve(path: string): string {
    return followScoped(
      path,
      (p) => (this.stat(p)?.isSymbolicLink() ? readLink(this.abs(p)) : undefined),
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
    return this.hashes.digest(this.abs(p), st, () => hashFileSync(this.abs(p)));
  }

  /**
   * prehash hashes, on every core, the files under `paths` that the stat cache does not know yet, so the
   * key's walk (treeDigest) finds them all known: a fresh runner's first build hashes a large context
   * in a fraction of the time one thread takes.
   */
  async prehash(paths: readonly string[]): Promise<void> {
    const todo: { rel: string; st: Stats }[] = [];
    const walk = (p: string) => {
      const st = this.stat(p);
      if (!st) return;
      if (st.isFile()) {
        if (!this.hashes.fresh(this.abs(p), st)) todo.push({ rel: p, st });
      } else if (st.isDirectory()) for (const c of this.children(p)) walk(p ? `${p}/${c}` : c);
    };
    for (const p of paths) {
      try {
        walk(this.resolve(p));
      } catch {
        // an escaping or broken path: the key's own walk reports it
      }
    }
    if (todo.length === 0) return;
    const digests = await hashFiles(todo.map((t) => ({ path: fsPath(this.abs(t.rel)), size: t.st.size })));
    for (const [i, t] of todo.entries()) {
      const d = digests[i];
      if (d) this.hashes.set(this.abs(t.rel), t.st, d);
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
