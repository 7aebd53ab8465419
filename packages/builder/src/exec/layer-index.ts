import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Digest, digestHex, type LayerEntry, tarEntries } from "@tsbuild/oci";
import { cleanRel, type IndexedEntry } from "./fsview.js";

/** LayerRef is a layer of a stage: where its blob is and what it unpacks to. */
export interface LayerRef {
  digest: Digest;
  diffId: Digest;
  size: number;
  mediaType: string;
  /** diskSize is docker's SIZE of the layer, when known. */
  diskSize?: number;
}

/**
 * OpenLayer streams a layer's blob: from the store, fetched (verified) first
 * when the store holds it only as a remote record (a lazy base layer).
 */
export type OpenLayer = (layer: LayerRef, signal?: AbortSignal) => Promise<Readable>;

/**
 * LayerIndex lists what each layer holds (paths and metadata, no content), cached as one small JSON file
 * per diffID under the build cache, so a base image is read once and COPY onto it never unpacks it.
 */
export class LayerIndex {
  readonly #dir: string;
  readonly #memo = new Map<Digest, Promise<IndexedEntry[]>>();

  constructor(
    readonly open: OpenLayer,
    cacheDir: string,
  ) {
    this.#dir = join(cacheDir, "index");
  }

  #file(diffId: Digest): string {
    return join(this.#dir, `${digestHex(diffId)}.json`);
  }

  /** entries returns a layer's entries, reading the blob once if the index has not seen it. */
  entries(layer: LayerRef): Promise<IndexedEntry[]> {
    let p = this.#memo.get(layer.diffId);
    if (!p) {
      p = this.#load(layer);
      this.#memo.set(layer.diffId, p);
      p.catch(() => this.#memo.delete(layer.diffId));
    }
    return p;
  }

  async #load(layer: LayerRef): Promise<IndexedEntry[]> {
    try {
      return JSON.parse(await readFile(this.#file(layer.diffId), "utf8")) as IndexedEntry[];
    } catch {
      // not indexed yet
    }
    const out: IndexedEntry[] = [];
    for await (const { info } of tarEntries(await this.open(layer))) {
      if (!info.type) continue;
      const e: IndexedEntry = {
        path: cleanRel(info.name),
        type: info.type,
        mode: info.mode,
        uid: info.uid,
        gid: info.gid,
        size: info.size,
        mtime: info.mtime,
      };
      if (info.linkname !== undefined && (info.type === "symlink" || info.type === "hardlink"))
        e.linkname = info.type === "hardlink" ? cleanRel(info.linkname) : info.linkname;
      out.push(e);
    }
    await this.record(layer.diffId, out);
    return out;
  }

  /** record saves the index of a layer the build wrote (its entries are known without reading it back). */
  async record(diffId: Digest, entries: readonly IndexedEntry[]): Promise<void> {
    this.#memo.set(diffId, Promise.resolve([...entries]));
    const file = this.#file(diffId);
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(entries));
    await rename(tmp, file);
  }
}

/** indexEntries turns the entries a layer is made of into its index. */
export function indexEntries(entries: readonly LayerEntry[]): IndexedEntry[] {
  return entries.map((e) => {
    const out: IndexedEntry = {
      path: cleanRel(e.path),
      type: e.type,
      mode: e.mode ?? (e.type === "dir" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: e.type === "file" ? (e.size ?? (e.content instanceof Uint8Array ? e.content.length : 0)) : 0,
      mtime: e.mtime ?? 0,
    };
    if (e.linkname !== undefined) out.linkname = e.linkname;
    return out;
  });
}

/**
 * extractFiles copies the content of the given regular files (relative paths, keyed by the layer that
 * holds their current version) out of the layer blobs into `dir`, one pass per layer. Hardlinks are
 * resolved to their targets by the caller.
 */
export async function extractFiles(
  open: OpenLayer,
  layers: readonly LayerRef[],
  wanted: ReadonlyMap<number, ReadonlySet<string>>,
  dir: string,
  signal?: AbortSignal,
): Promise<void> {
  for (const [layerIndex, paths] of wanted) {
    const layer = layers[layerIndex];
    if (!layer || paths.size === 0) continue;
    let left = paths.size;
    for await (const { info, body } of tarEntries(await open(layer, signal), { signal })) {
      const p = cleanRel(info.name);
      if (info.type !== "file" || !paths.has(p)) continue;
      const out = join(dir, p);
      await mkdir(dirname(out), { recursive: true });
      await pipeline(body, createWriteStream(out));
      if (--left === 0) break;
    }
  }
}

/** readLayerFile returns one small regular file from a layer (e.g. /etc/passwd), or undefined. */
export async function readLayerFile(
  open: OpenLayer,
  layer: LayerRef,
  path: string,
  limit = 16 * 1024 * 1024,
): Promise<Buffer | undefined> {
  const want = cleanRel(path);
  for await (const { info, body } of tarEntries(await open(layer))) {
    if (cleanRel(info.name) !== want || info.type !== "file") continue;
    if (info.size > limit) throw new Error(`/${want} is larger than ${limit} bytes`);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  return undefined;
}
