import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Known } from "./scan.js";

/** StatFields are the stat fields the cache compares (fs.Stats and a scan's FileStat have them). */
interface StatFields {
  size: number;
  mtimeMs: number;
  ino: number;
  mode: number;
}

type Entry = [size: number, mtimeNs: string, ino: number, mode: number, digest: string];

/**
 * StatCache remembers the content digest of one context's files, by path relative to the context, with
 * the stat fields that change when a file does (size, mtime in ns, inode, mode): an unchanged file is
 * not read again. A file whose stat changed is re-hashed before anything calls it a cache miss. The file is local to this
 * machine and never part of a cache key or record.
 */
export class StatCache {
  #map = new Map<string, Entry>();
  #dirty = false;

  private constructor(readonly file: string) {}

  /**
   * open reads a cache file: one line per file, its path as a JSON string and the stat fields and digest
   * after it, tab-separated (cheaper to write and read than one JSON document of tens of thousands of
   * entries). A missing or torn file, or a line that does not parse, is simply not known.
   */
  static async open(file: string): Promise<StatCache> {
    const c = new StatCache(file);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      return c;
    }
    for (const line of text.split("\n")) {
      const f = line.split("\t");
      if (f.length !== 6 || !f[5]!.startsWith("sha256:")) continue;
      try {
        c.#map.set(JSON.parse(f[0]!) as string, [Number(f[1]), f[2]!, Number(f[3]), Number(f[4]), f[5]!]);
      } catch {
        // a torn line
      }
    }
    return c;
  }

  digest(path: string, st: StatFields, hash: () => string): string {
    const mtime = String(st.mtimeMs);
    const e = this.#map.get(path);
    if (e && e[0] === st.size && e[1] === mtime && e[2] === st.ino && e[3] === st.mode) return e[4];
    const d = hash();
    this.#map.set(path, [st.size, mtime, st.ino, st.mode, d]);
    this.#dirty = true;
    return d;
  }

  /** known is what the cache holds for `path` (its stat fields, not the digest), for a scan to compare. */
  known(path: string): Known | undefined {
    const e = this.#map.get(path);
    return e && [e[0], e[1], e[2], e[3]];
  }

  /** set records a digest computed elsewhere (hashed in parallel before the key needs it). */
  set(path: string, st: StatFields, digest: string): void {
    this.#map.set(path, [st.size, String(st.mtimeMs), st.ino, st.mode, digest]);
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    await mkdir(dirname(this.file), { recursive: true });
    // Builds of several platforms save the same file, perhaps at once: each through a temp file of its own.
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const lines: string[] = [];
    for (const [path, e] of this.#map) lines.push(`${JSON.stringify(path)}\t${e.join("\t")}`);
    await writeFile(tmp, `${lines.join("\n")}\n`);
    await rename(tmp, this.file);
    this.#dirty = false;
  }
}
