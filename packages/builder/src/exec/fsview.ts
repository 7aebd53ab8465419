import type { LayerEntryType } from "@tsbuild/oci";
import { resolveInRoot } from "../snapshot/rootpath.js";

/** FsNode is what a build knows of one path of a stage's root filesystem, without its content. */
export interface FsNode {
  type: LayerEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  /** layer is the index (in the stage's layer list) of the layer that holds this version of the path. */
  layer: number;
}

/**
 * newDirMeta is the mode and owner of a directory that a COPY, ADD or WORKDIR makes (fsutil's MkdirAll:
 * mkdir 0755, then chown only when an owner is given), under `parent` as the kernel makes it: inside a
 * setgid directory the new one is setgid too and takes the parent's group unless chowned.
 */
export function newDirMeta(
  parent: Pick<FsNode, "mode" | "gid"> | undefined,
  owner: { uid: number; gid: number } | undefined,
): { mode: number; uid: number; gid: number } {
  const setgid = parent !== undefined && (parent.mode & 0o2000) !== 0;
  return {
    mode: setgid ? 0o2755 : 0o755,
    uid: owner?.uid ?? 0,
    gid: owner ? owner.gid : setgid ? parent.gid : 0,
  };
}

/** IndexedEntry is one layer entry as the index keeps it: a relative path ("etc/passwd") and its node. */
export interface IndexedEntry extends Omit<FsNode, "layer"> {
  path: string;
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

const NEEDS_CLEAN = /(^|\/)\.\.?(\/|$)|\/\/|^\/|\/$/;

/** cleanRel turns "/a/./b/" or "a//b" into "a/b" ("" is the root); ".." never climbs above the root. */
export function cleanRel(p: string): string {
  if (!NEEDS_CLEAN.test(p)) return p;
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return out.join("/");
}

function parentOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "" : p.slice(0, i);
}

/**
 * FsView is the merged view of a stage's layers (paths to metadata), as the layers would leave a root
 * filesystem once applied in order: whiteouts and opaque directories hide lower paths. COPY, ADD and
 * WORKDIR use it to decide where things go and to write parent directories as docker does, without
 * unpacking anything.
 */
export class FsView {
  readonly #nodes: Map<string, FsNode>;

  constructor(nodes?: Map<string, FsNode>) {
    this.#nodes = nodes ?? new Map();
  }

  clone(): FsView {
    return new FsView(new Map(this.#nodes));
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** apply lays one layer's entries over the view (whiteouts remove, opaque markers clear a directory). */
  apply(entries: readonly IndexedEntry[], layer: number): void {
    for (const e of entries) {
      const path = cleanRel(e.path);
      const slash = path.lastIndexOf("/");
      const base = path.slice(slash + 1);
      const dir = slash < 0 ? "" : path.slice(0, slash);
      if (base === OPAQUE) {
        this.#removeUnder(dir, false);
        continue;
      }
      if (base.startsWith(WHITEOUT)) {
        const target = (dir ? `${dir}/` : "") + base.slice(WHITEOUT.length);
        this.#removeUnder(target, true);
        continue;
      }
      const old = this.#nodes.get(path);
      if (old && old.type === "dir" && e.type !== "dir") this.#removeUnder(path, false);
      const { path: _p, ...meta } = e;
      this.#nodes.set(path, { ...meta, layer });
    }
  }

  #removeUnder(path: string, self: boolean): void {
    if (self) this.#nodes.delete(path);
    const prefix = path === "" ? "" : `${path}/`;
    for (const k of [...this.#nodes.keys()]) if (k.startsWith(prefix) && k !== path) this.#nodes.delete(k);
  }

  /** get returns the node at a relative path exactly (no symlink resolution). */
  get(path: string): FsNode | undefined {
    return this.#nodes.get(cleanRel(path));
  }

  /**
   * resolve follows symlinks in `path` inside the root (an absolute link target restarts at the root, `..`
   * never leaves it), as BuildKit's RootPath does; with `followLast` false the last component is not
   * followed. It returns the resolved relative path, which may not exist.
   */
  resolve(path: string, followLast = true): string {
    return resolveInRoot(
      cleanRel(path),
      (cand) => {
        const node = this.#nodes.get(cand);
        return node?.type === "symlink" ? (node.linkname ?? "") : undefined;
      },
      followLast,
      () => {
        throw new Error(`too many levels of symbolic links: /${cleanRel(path)}`);
      },
    );
  }

  /** children lists the direct children of a directory (relative paths, unsorted). */
  children(dir: string): string[] {
    const d = cleanRel(dir);
    const prefix = d === "" ? "" : `${d}/`;
    const out: string[] = [];
    for (const k of this.#nodes.keys()) {
      if (k.startsWith(prefix) && k !== d && !k.slice(prefix.length).includes("/")) out.push(k);
    }
    return out;
  }

  /** under lists the path itself and every path below it, parents first. */
  under(path: string): string[] {
    const p = cleanRel(path);
    const prefix = p === "" ? "" : `${p}/`;
    const out = [...this.#nodes.keys()].filter((k) => k === p || k.startsWith(prefix));
    return out.sort();
  }

  /** parents lists the ancestors of a relative path that exist, outermost first ("" not included). */
  parents(path: string): string[] {
    const out: string[] = [];
    let p = parentOf(cleanRel(path));
    while (p !== "") {
      out.unshift(p);
      p = parentOf(p);
    }
    return out;
  }
}
