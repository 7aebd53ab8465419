import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** FileStat is what a scan keeps of a file's lstat: the fields keys, copies and the stat cache read. */
export interface FileStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

/** Known is a stat cache entry's stat fields (size, mtime in ms as a string, inode, mode). */
export type Known = readonly [size: number, mtimeMs: string, ino: number, mode: number];

/**
 * ScanInput is one path to scan: a regular file with what the stat cache knows of it, or (statOnly) a
 * directory, symlink or other entry that only needs its lstat.
 */
export interface ScanInput {
  path: string | Buffer;
  known?: Known | undefined;
  statOnly?: boolean;
}

/**
 * ScannedFile is a path's stat and, for a file whose stat did not match `known` (else the cached digest
 * stands), its content digest.
 */
export interface ScannedFile {
  stat: FileStat;
  digest?: string;
}

/** STAT_FIELDS: a share's stats travel as one Float64Array, this many numbers per file. */
const STAT_FIELDS = 7;

interface Deps {
  fs: typeof fs;
  createHash: typeof createHash;
}

/**
 * scanShare stats and hashes files for scanFiles, on this thread or in a worker (whose source is this
 * function's text, so it may use nothing but its arguments). `known` true asks for the lstat alone. A
 * file whose stat matches its `known` entry
 * is not read; otherwise it is opened without following a symlink, fstat'ed and read in 1 MiB slices
 * (4 system calls for a small file instead of lstat's extra one). NaN in the mode slot marks a file that
 * could not be read (gone, swapped for a symlink, unreadable): the caller's slow path reports it.
 */
function scanShare(
  paths: readonly (string | Uint8Array)[],
  known: readonly (Known | boolean | null | undefined)[],
  { fs, createHash }: Deps,
): { stats: Float64Array; digests: (string | null)[] } {
  // 7 numbers per file (STAT_FIELDS: this function cannot see module constants).
  const stats = new Float64Array(paths.length * 7);
  const digests: (string | null)[] = new Array(paths.length).fill(null);
  const buf = Buffer.allocUnsafe(1 << 20);
  const put = (i: number, st: fs.Stats) => {
    const o = i * 7;
    stats[o] = st.mode;
    stats[o + 1] = st.uid;
    stats[o + 2] = st.gid;
    stats[o + 3] = st.size;
    stats[o + 4] = st.mtimeMs;
    stats[o + 5] = st.ino;
    stats[o + 6] = st.dev;
  };
  for (let i = 0; i < paths.length; i++) {
    const raw = paths[i]!;
    const path = typeof raw === "string" ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    stats[i * 7] = Number.NaN;
    try {
      const k = known[i];
      if (k === true) {
        put(i, fs.lstatSync(path));
        continue;
      }
      if (k) {
        const st = fs.lstatSync(path);
        if (
          st.isFile() &&
          st.size === k[0] &&
          String(st.mtimeMs) === k[1] &&
          st.ino === k[2] &&
          st.mode === k[3]
        ) {
          put(i, st);
          continue;
        }
      }
      const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile()) continue;
        // The size fstat gave is what is hashed: no extra read() to see the end of the file.
        const h = createHash("sha256");
        for (let left = st.size; left > 0; ) {
          const n = fs.readSync(fd, buf, 0, Math.min(buf.length, left), null);
          if (n === 0) throw new Error("the file shrank while it was read");
          h.update(buf.subarray(0, n));
          left -= n;
        }
        put(i, st);
        digests[i] = `sha256:${h.digest("hex")}`;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // left NaN: the caller stats and hashes it itself, and reports what is wrong
    }
  }
  return { stats, digests };
}

const WORKER = `
const { parentPort } = require("node:worker_threads");
const scanShare = ${scanShare.toString()};
const deps = { fs: require("node:fs"), createHash: require("node:crypto").createHash };
parentPort.on("message", ({ id, paths, known }) => {
  const r = scanShare(paths, known, deps);
  parentPort.postMessage({ id, ...r }, [r.stats.buffer]);
});
`;

type ShareResult = { stats: Float64Array; digests: (string | null)[] };

/** results turns a share's stats and digests into ScannedFiles (null where a file could not be scanned). */
function results(n: number, r: ShareResult): (ScannedFile | null)[] {
  const out: (ScannedFile | null)[] = new Array(n).fill(null);
  const s = r.stats;
  for (let k = 0; k < n; k++) {
    const o = k * STAT_FIELDS;
    if (Number.isNaN(s[o])) continue;
    const stat: FileStat = {
      mode: s[o]!,
      uid: s[o + 1]!,
      gid: s[o + 2]!,
      size: s[o + 3]!,
      mtimeMs: s[o + 4]!,
      ino: s[o + 5]!,
      dev: s[o + 6]!,
    };
    const d = r.digests[k];
    out[k] = d ? { stat, digest: d } : { stat };
  }
  return out;
}

/** knownOf is what scanShare takes for an input: true for an lstat alone, else the stat cache's entry. */
function knownOf(f: ScanInput): Known | boolean | undefined {
  return f.statOnly ? true : f.known;
}

/** scanHere scans files on this thread. */
export function scanHere(files: readonly ScanInput[]): (ScannedFile | null)[] {
  return results(
    files.length,
    scanShare(
      files.map((f) => f.path),
      files.map(knownOf),
      { fs, createHash },
    ),
  );
}

/**
 * ScanPool is worker threads (one per core, up to 4) that scan batches of files: batches go round-robin,
 * each worker takes its own in order. A worker that dies answers its batches with nulls (the caller's
 * slow path then reads those files itself).
 */
export class ScanPool {
  readonly #workers: Worker[] = [];
  readonly #waiting = new Map<
    number,
    { worker: Worker; n: number; resolve: (r: (ScannedFile | null)[]) => void }
  >();
  #id = 0;
  #next = 0;

  constructor(size = Math.min(4, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER, { eval: true });
      w.unref();
      w.on("message", (m: ShareResult & { id: number }) => {
        const job = this.#waiting.get(m.id);
        if (!job) return;
        this.#waiting.delete(m.id);
        job.resolve(results(job.n, m));
      });
      const fail = () => {
        for (const [id, job] of this.#waiting) {
          if (job.worker !== w) continue;
          this.#waiting.delete(id);
          job.resolve(new Array(job.n).fill(null));
        }
      };
      w.on("error", fail);
      w.on("exit", fail);
      this.#workers.push(w);
    }
  }

  /** backlog is how many batches are sent and not answered yet. */
  get backlog(): number {
    return this.#waiting.size;
  }

  submit(files: readonly ScanInput[]): Promise<(ScannedFile | null)[]> {
    const id = ++this.#id;
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    return new Promise((resolve) => {
      this.#waiting.set(id, { worker, n: files.length, resolve });
      worker.postMessage({ id, paths: files.map((f) => f.path), known: files.map(knownOf) });
    });
  }

  /** close stops the workers; batches still waiting get nulls. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** PARALLEL_MIN_FILES: below this many files, starting workers costs more than it saves. */
export const PARALLEL_MIN_FILES = 512;

/**
 * scanFiles stats and hashes many regular files, on every core for a large set (in batches of
 * PARALLEL_MIN_FILES dealt to the pool's workers), on this thread for a few. A file that could not be
 * scanned gets null.
 */
export async function scanFiles(files: readonly ScanInput[]): Promise<(ScannedFile | null)[]> {
  if (files.length < PARALLEL_MIN_FILES || availableParallelism() < 2) return scanHere(files);
  const pool = new ScanPool();
  try {
    const parts: Promise<(ScannedFile | null)[]>[] = [];
    for (let i = 0; i < files.length; i += PARALLEL_MIN_FILES)
      parts.push(pool.submit(files.slice(i, i + PARALLEL_MIN_FILES)));
    return (await Promise.all(parts)).flat();
  } finally {
    await pool.close();
  }
}

const WILDCARD = /[*?[\\]/;

/**
 * literalPrefix is the part of a COPY source before its first wildcard ("" for the whole context), or
 * undefined when the first name already has one (`*.json`: no prefix worth scanning ahead).
 */
export function literalPrefix(src: string): string | undefined {
  const segs = src.split("/").filter((s) => s !== "" && s !== ".");
  const lit: string[] = [];
  for (const s of segs) {
    if (s === ".." || WILDCARD.test(s)) break;
    lit.push(s);
  }
  if (lit.length < segs.length && lit.length === 0) return undefined;
  return lit.join("/");
}

/** ScanBatch is one batch of relative paths and what the scan found for each (null: not scanned). */
export interface ScanBatch {
  rels: string[];
  scanned: (ScannedFile | null)[];
}

/**
 * ScanAhead scans the paths under some prefixes of the context (files stat'ed and hashed, the rest
 * stat'ed) while the context is still being listed: a batch goes to the pool as soon as it is full, so the listing and the scan overlap. A
 * context too small to fill one batch never starts a worker (the step scans it on its own thread).
 */
export class ScanAhead {
  #pool: ScanPool | undefined;
  #batch: string[] = [];
  readonly #parts: Promise<ScanBatch>[] = [];

  constructor(
    readonly prefixes: readonly string[],
    /** input is what to send for a relative path: its path on disk and the stat cache's entry. */
    readonly input: (rel: string) => ScanInput,
  ) {}

  /** entry takes one listed path (relative, clean) of the given kind. */
  entry(path: string, kind: string): void {
    if (!this.prefixes.some((p) => p === "" || path === p || (path.startsWith(p) && path[p.length] === "/")))
      return;
    this.#batch.push(path);
    this.#kinds.push(kind === "file");
    if (this.#batch.length >= PARALLEL_MIN_FILES) this.#flush();
  }

  #kinds: boolean[] = [];

  /**
   * #flush sends a full batch to the pool (one worker fewer than the cores), or scans it here when the
   * workers already have two batches each waiting: the listing, the scan and the build's requests share
   * the cores without more threads than cores, and this thread only scans when the workers lag.
   */
  #flush(): void {
    const rels = this.#batch;
    const files = this.#kinds;
    this.#batch = [];
    this.#kinds = [];
    const inputs = rels.map((r, i) =>
      files[i] ? this.input(r) : { path: this.input(r).path, statOnly: true },
    );
    const workers = Math.min(3, availableParallelism() - 1);
    if (workers > 0) this.#pool ??= new ScanPool(workers);
    if (this.#pool && this.#pool.backlog < 4 * workers)
      this.#parts.push(this.#pool.submit(inputs).then((scanned) => ({ rels, scanned })));
    else this.#parts.push(Promise.resolve({ rels, scanned: scanHere(inputs) }));
  }

  /** finish waits for every batch sent and stops the workers: the paths scanned, batch by batch. */
  async finish(): Promise<ScanBatch[]> {
    if (this.#parts.length > 0 && this.#batch.length > 0) this.#flush();
    try {
      return await Promise.all(this.#parts);
    } finally {
      await this.#pool?.close();
    }
  }
}
