import type { Readable } from "node:stream";
import { pathToBytes } from "./path-bytes.js";

/** LayerEntryType names the kinds of filesystem object a layer can hold. */
export type LayerEntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

/**
 * LayerEntry describes one tar entry for createLayer's explicit-list source.
 * Paths are relative and "/"-separated ("etc/passwd", no leading "/" or "./").
 *
 * Names that are not valid UTF-8 (Linux names are bytes) are carried in
 * `path`, `linkname` and `content.file` with each invalid byte escaped as a
 * lone surrogate (see pathFromBytes in path-bytes.ts); walkDirectory produces
 * them that way and createLayer writes the original bytes into the tar
 * header, as GNU tar does. Pass them on unchanged; to touch the file, use
 * fsPath(path), never the string with fs directly.
 */
export interface LayerEntry {
  path: string;
  type: LayerEntryType;
  /** mode is the permission bits including setuid/setgid/sticky; defaults 0o644 (files) / 0o755 (dirs). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** mtime in seconds since the epoch; defaults to 0. */
  mtime?: number;
  /** linkname is the symlink target, or for a hardlink the path (relative, in the layer) it links to. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string | Uint8Array>;
  /**
   * content of a regular file: bytes, a file to read, or a function opening a
   * stream of exactly `size` bytes. Omitted means empty.
   */
  content?: Uint8Array | string | { file: string } | (() => Readable);
  /** size is required when content is a file or a stream, so the header can be written first. */
  size?: number;
}

/**
 * entryDiskSize is what an entry adds to docker's image SIZE: docker sums the
 * lstat sizes of a layer's files except directories (file bytes, symlink
 * target lengths; a hardlinked inode once, so hardlink entries add nothing),
 * so tar headers and padding do not count.
 */
export function entryDiskSize(e: {
  readonly type: LayerEntryType | undefined;
  readonly size?: number;
  readonly linkname?: string | undefined;
}): number {
  if (e.type === "file") return e.size ?? 0;
  if (e.type === "symlink") return pathToBytes(e.linkname ?? "").length;
  return 0;
}

/** comparePaths orders layer paths as a depth-first walk with byte-wise sorted siblings (parents before children). */
export function comparePaths(a: string, b: string): number {
  const ab = pathToBytes(a);
  const bb = pathToBytes(b);
  const n = Math.min(ab.length, bb.length);
  for (let i = 0; i < n; i++) {
    const x = ab[i]!;
    const y = bb[i]!;
    if (x === y) continue;
    // "/" sorts before every other byte so that "a/b" comes before "a.b" and "a-b".
    if (x === 0x2f) return -1;
    if (y === 0x2f) return 1;
    return x - y;
  }
  return ab.length - bb.length;
}
