import type { LayerEntry } from "@tsbuild/oci";
import { PatternMatcher } from "../dockerfile/dockerignore/matcher.js";
import { BuildError } from "../errors.js";
import { cleanRel, type FsNode, type FsView, newDirMeta } from "./fsview.js";
import { expandWildcard, hasWildcard } from "./glob.js";
import { applyMode, type ModeSpec, type Owner } from "./owners.js";
import { ContextFs, type SourceFs, type SourceNode } from "./sources.js";

/** CopySource is one thing a COPY/ADD copies: a path in a tree, or a single prepared file (heredoc, URL). */
export type CopySource =
  | { kind: "path"; fs: SourceFs; path: string; unpack: boolean }
  | { kind: "file"; name: string; node: SourceNode; content: LayerEntry["content"] };

/** CopyRequest is a resolved COPY/ADD: where from, where to, and with which owner and mode. */
export interface CopyRequest {
  sources: CopySource[];
  /** dest is the absolute destination as written after WORKDIR (a trailing "/" means a directory). */
  dest: string;
  chown?: Owner;
  chmod?: ModeSpec;
  parents: boolean;
  excludes: readonly string[];
  /** mtime is the time created directories get (deterministic: SOURCE_DATE_EPOCH or 0). */
  mtime: number;
  /** unpackArchive reads a local archive for ADD, or returns undefined when the file is not one. */
  unpackArchive?: (fs: ContextFs, path: string) => Promise<ArchiveContent | undefined>;
  signal?: AbortSignal;
}

/** ArchiveContent is an extracted archive: entries relative to the archive root, contents in files. */
export interface ArchiveContent {
  entries: LayerEntry[];
}

/** CopyResult is what the step adds: layer entries (parents included, as docker's differ writes them). */
export interface CopyResult {
  entries: LayerEntry[];
}

type Op = { node: FsNode; src?: { fs: SourceFs; path: string } | { content: LayerEntry["content"] } };

const notFound = (path: string) =>
  new BuildError("SOURCE_NOT_FOUND", `failed to compute cache key: "/${cleanRel(path)}": not found`);

/** matches expands a path source: its wildcard matches (possibly none), or the path itself. */
export function matches(fs: SourceFs, path: string): string[] {
  const p = cleanRel(path);
  if (hasWildcard(p)) return expandWildcard(fs, p);
  return [p];
}

/**
 * Copier applies COPY/ADD to a stage's view with BuildKit's fsutil copy rules: a directory source copies
 * its contents; a file into an existing directory (or a dest ending in "/") keeps its name; missing parents
 * are created 0755 with the --chown owner; an existing destination directory keeps its metadata while
 * copied subdirectories take the source's; symlinks are copied as links, hardlinks within one copy stay
 * linked; owners are 0:0 from the context and kept from a stage unless --chown.
 */
export class Copier {
  readonly #ops = new Map<string, Op>();
  readonly #inodes = new Map<string, string>();

  constructor(
    readonly view: FsView,
    readonly req: CopyRequest,
  ) {}

  async run(): Promise<CopyResult> {
    const { req } = this;
    const destDir = req.dest.endsWith("/") || req.dest.endsWith("/.");
    const destRel = this.view.resolve(req.dest);
    if (destDir) this.#mkdirAll(destRel);
    for (const src of req.sources) {
      if (src.kind === "file") {
        const target = this.#targetFor(destRel, src.name, false);
        this.#mkdirAll(parentOf(target));
        this.#put(target, this.#meta(src.node, "context"), { content: src.content });
        continue;
      }
      const found = matches(src.fs, src.path);
      if (found.length === 0 && !hasWildcard(src.path)) throw notFound(src.path);
      for (const m of found) await this.#copyTop(src, m, destRel);
    }
    // Contents of a stage's files are extracted in one pass per layer.
    const byFs = new Map<SourceFs, string[]>();
    for (const op of this.#ops.values()) {
      if (op.src && "fs" in op.src && op.node.type === "file") {
        let list = byFs.get(op.src.fs);
        if (!list) {
          list = [];
          byFs.set(op.src.fs, list);
        }
        list.push(op.src.path);
      }
    }
    for (const [fs, paths] of byFs) await fs.prepare(paths, req.signal);
    return { entries: this.#entries() };
  }

  #targetFor(destRel: string, name: string, isDir: boolean): string {
    // The root ("") is always a directory, though no entry stands for it.
    const existing = destRel === "" ? undefined : this.#lookup(destRel, true);
    if (!isDir && (destRel === "" || existing?.type === "dir")) return join(destRel, name);
    return destRel;
  }

  async #copyTop(src: Extract<CopySource, { kind: "path" }>, match: string, destRel: string): Promise<void> {
    const { fs } = src;
    const resolved = fs.resolve(match);
    const node = fs.node(resolved);
    if (!node) throw notFound(match);
    const base = match.slice(match.lastIndexOf("/") + 1);
    if (src.unpack && node.type === "file" && fs instanceof ContextFs && this.req.unpackArchive) {
      const archive = await this.req.unpackArchive(fs, resolved);
      if (archive) {
        this.#mkdirAll(destRel);
        this.#applyArchive(archive, destRel);
        return;
      }
    }
    let target: string;
    if (this.req.parents) target = join(destRel, match);
    else target = node.type === "dir" ? destRel : this.#targetFor(destRel, base, false);
    target = this.view.resolve(target);
    const excludes = this.req.excludes.length > 0 ? new PatternMatcher([...this.req.excludes]) : undefined;
    // Hardlinks are kept within one source, not across sources (fsutil copies each source on its own).
    this.#inodes.clear();
    if (node.type === "dir" && !this.req.parents) {
      // A directory's contents go into the destination, which is made like its parents (0755, the
      // --chown owner; the --chmod mode, as current BuildKit does) and otherwise keeps its metadata.
      const created = !this.#lookup(target, false);
      this.#mkdirAll(target);
      const top = this.#ops.get(cleanRel(target));
      if (created && top && this.req.chmod) top.node.mode = applyMode(this.req.chmod, top.node.mode, true);
      for (const name of fs.children(resolved)) {
        if (excludes?.matchesOrParentMatches(name)) continue;
        this.#copy(fs, resolved ? `${resolved}/${name}` : name, join(target, name), true, excludes, name);
      }
      return;
    }
    this.#mkdirAll(parentOf(target));
    this.#copy(fs, resolved, target, false, excludes, "");
  }

  #copy(
    fs: SourceFs,
    src: string,
    dst: string,
    overwrite: boolean,
    excludes: PatternMatcher | undefined,
    rel: string,
  ): void {
    const node = fs.node(src)!;
    if (node.type === "dir") {
      const existing = this.#lookup(dst, false);
      if (!existing) this.#put(dst, this.#meta(node, fs.kind), undefined);
      else if (existing.type !== "dir")
        throw new BuildError("INVALID_DESTINATION", `cannot copy to non-directory: /${dst}`);
      else if (overwrite) this.#put(dst, this.#meta(node, fs.kind), undefined);
      for (const name of fs.children(src)) {
        const childRel = rel ? `${rel}/${name}` : name;
        if (excludes?.matchesOrParentMatches(childRel)) continue;
        this.#copy(fs, src ? `${src}/${name}` : name, join(dst, name), true, excludes, childRel);
      }
      return;
    }
    const existing = this.#lookup(dst, false);
    if (existing?.type === "dir")
      throw new BuildError("INVALID_DESTINATION", `cannot replace directory /${dst} with a file`);
    if (node.type === "file" && node.inode !== undefined) {
      const first = this.#inodes.get(node.inode);
      if (first !== undefined) {
        const meta = this.#meta(node, fs.kind);
        this.#put(dst, { ...meta, type: "hardlink", linkname: first, size: 0 }, undefined);
        return;
      }
      this.#inodes.set(node.inode, dst);
    }
    this.#put(dst, this.#meta(node, fs.kind), { fs, path: src });
  }

  #applyArchive(archive: ArchiveContent, destRel: string): void {
    for (const e of archive.entries) {
      const p = join(destRel, cleanRel(e.path));
      if (p === destRel) continue;
      this.#mkdirAll(parentOf(p));
      const owner = this.req.chown ?? { uid: e.uid ?? 0, gid: e.gid ?? 0 };
      const node: FsNode = {
        type: e.type,
        mode: e.mode ?? (e.type === "dir" ? 0o755 : 0o644),
        uid: owner.uid,
        gid: owner.gid,
        size: e.size ?? 0,
        mtime: e.mtime ?? 0,
        layer: -1,
      };
      if (e.linkname !== undefined)
        node.linkname = e.type === "hardlink" ? join(destRel, cleanRel(e.linkname)) : e.linkname;
      const existing = this.#lookup(p, false);
      if (existing?.type === "dir" && e.type === "dir") {
        this.#put(p, node, undefined);
        continue;
      }
      this.#put(p, node, e.type === "file" ? { content: e.content } : undefined);
    }
  }

  #meta(node: SourceNode, from: SourceFs["kind"]): FsNode {
    const owner =
      this.req.chown ?? (from === "context" ? { uid: 0, gid: 0 } : { uid: node.uid, gid: node.gid });
    const mode =
      this.req.chmod && node.type !== "symlink"
        ? applyMode(this.req.chmod, node.mode, node.type === "dir")
        : node.mode;
    const out: FsNode = {
      type: node.type,
      mode,
      uid: owner.uid,
      gid: owner.gid,
      size: node.size,
      mtime: node.mtime,
      layer: -1,
    };
    if (node.linkname !== undefined) out.linkname = node.linkname;
    return out;
  }

  #lookup(path: string, follow: boolean): FsNode | undefined {
    const p = follow ? this.view.resolve(path) : cleanRel(path);
    return this.#ops.get(p)?.node ?? this.view.get(p);
  }

  #put(path: string, node: FsNode, src: Op["src"]): void {
    const p = cleanRel(path);
    if (p === "") return;
    this.#ops.set(p, src ? { node, src } : { node });
  }

  /**
   * #mkdirAll creates the missing directories of a path (fsutil MkdirAll: 0755, the --chown owner, setgid
   * and group inherited inside a setgid directory: newDirMeta).
   */
  #mkdirAll(path: string): void {
    const p = cleanRel(path);
    if (p === "") return;
    const segs = p.split("/");
    let parent: FsNode | undefined = this.view.get("");
    for (let i = 1; i <= segs.length; i++) {
      const cur = segs.slice(0, i).join("/");
      const n = this.#lookup(cur, false);
      if (n?.type === "symlink") {
        const target = this.#lookup(this.view.resolve(cur), false);
        if (target?.type === "dir") {
          parent = target;
          continue;
        }
      }
      if (n) {
        if (n.type !== "dir" && n.type !== "symlink")
          throw new BuildError(
            "INVALID_DESTINATION",
            `cannot create directory /${cur}: a file is in the way`,
          );
        parent = n;
        continue;
      }
      const node: FsNode = {
        type: "dir",
        ...newDirMeta(parent, this.req.chown),
        size: 0,
        mtime: this.req.mtime,
        layer: -1,
      };
      this.#put(cur, node, undefined);
      parent = node;
    }
  }

  /** #entries lists what changed plus every parent directory of it with the view's metadata, as docker's differ writes parents. */
  #entries(): LayerEntry[] {
    const out = new Map<string, LayerEntry>();
    for (const [path, op] of this.#ops) {
      const e: LayerEntry = {
        path,
        type: op.node.type,
        mode: op.node.mode,
        uid: op.node.uid,
        gid: op.node.gid,
        mtime: op.node.mtime,
      };
      if (op.node.linkname !== undefined) e.linkname = op.node.linkname;
      if (op.node.type === "file" && op.src) {
        e.content = "fs" in op.src ? op.src.fs.content(op.src.path) : op.src.content;
        e.size = op.node.size;
      }
      out.set(path, e);
    }
    for (const path of [...out.keys()]) {
      for (let p = parentOf(path); p !== "" && !out.has(p); p = parentOf(p)) {
        const n = this.view.get(p);
        if (!n) continue;
        out.set(p, { path: p, type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime });
      }
    }
    return [...out.values()];
  }
}

function parentOf(p: string): string {
  const c = cleanRel(p);
  const i = c.lastIndexOf("/");
  return i < 0 ? "" : c.slice(0, i);
}

function join(a: string, b: string): string {
  return cleanRel(`${a}/${b}`);
}
