import type { Stats } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

type Entry = [size: number, mtimeNs: string, ino: number, mode: number, digest: string];

/**
 * StatCache remembers the content digest of context files by absolute path with the stat fields that
 * change when a file does (size, mtime in ns, inode, mode): an unchanged file is not read again. A file
 * whose stat changed is re-hashed before anything calls it a cache miss. The file is local to this
 * machine and never part of a cache key or record.
 */
export class StatCache {
  #map = new Map<string, Entry>();
  #dirty = false;

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<StatCache> {
    const c = new StatCache(file);
    try {
      c.#map = new Map(Object.entries(JSON.parse(await readFile(file, "utf8")) as Record<string, Entry>));
    } catch {
      // no cache yet, or a torn one: start empty
    }
    return c;
  }

  digest(path: string, st: Stats, hash: () => string): string {
    const mtime = String(st.mtimeMs);
    const e = this.#map.get(path);
    if (e && e[0] === st.size && e[1] === mtime && e[2] === st.ino && e[3] === st.mode) return e[4];
    const d = hash();
    this.#map.set(path, [st.size, mtime, st.ino, st.mode, d]);
    this.#dirty = true;
    return d;
  }

  /** fresh says whether the cache has a digest for `path` with these stat fields. */
  fresh(path: string, st: Stats): boolean {
    const e = this.#map.get(path);
    return (
      e !== undefined &&
      e[0] === st.size &&
      e[1] === String(st.mtimeMs) &&
      e[2] === st.ino &&
      e[3] === st.mode
    );
  }

  /** set records a digest computed elsewhere (hashed in parallel before the key needs it). */
  set(path: string, st: Stats, digest: string): void {
    this.#map.set(path, [st.size, String(st.mtimeMs), st.ino, st.mode, digest]);
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.#map)));
    await rename(tmp, this.file);
    this.#dirty = false;
  }
}
