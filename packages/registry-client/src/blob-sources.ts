import { appendFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Digest, isDigest, withFileLock, writeFileAtomic } from "@tsbuild/oci";

/** BLOB_SOURCES_FILE is the store file that remembers which repositories a blob was pulled from or pushed to. */
export const BLOB_SOURCES_FILE = "blob-sources";

export interface BlobSourcesOptions {
  /**
   * hasBlob says whether the store still holds a blob; compaction drops the
   * sources of blobs it no longer has (nothing to mount from them).
   */
  readonly hasBlob?: (d: Digest) => Promise<boolean>;
  /** compactBytes: the file is compacted once it is larger than this and twice its last compacted size (default 256 KiB). */
  readonly compactBytes?: number;
  /** maxPerBlob bounds the repositories kept per blob, most recent first (default 8). */
  readonly maxPerBlob?: number;
  /** maxBlobs bounds the blobs kept; the least recently recorded go first (default 20,000). */
  readonly maxBlobs?: number;
}

/** HEADER starts a compacted file and carries its size, so growth is measured against it. */
const HEADER = "# compacted ";

/**
 * BlobSources remembers, per store, where blobs are known to live
 * (`registry/repository`), so a push can ask the registry to mount a blob
 * from another repository instead of uploading it again (docker keeps the
 * same in its distribution metadata). Facts are appended, one
 * `digest registry/repository` line each (`-digest registry/repository` when
 * a mount showed it gone); damaged lines are skipped. Once the file has
 * doubled since its last compaction it is rewritten atomically with only the
 * live facts, bounded per blob and in total, for blobs the store still has.
 * Writers hold `blob-sources.lock`, so a compaction never loses an append.
 */
export class BlobSources {
  readonly path: string;
  readonly #options: BlobSourcesOptions;

  constructor(storeRoot: string, options: BlobSourcesOptions = {}) {
    this.path = join(storeRoot, BLOB_SOURCES_FILE);
    this.#options = options;
  }

  /** record notes that the blobs live in `registry/repository`. */
  record(registry: string, repository: string, digests: Iterable<Digest>): Promise<void> {
    return this.#append("", `${registry}/${repository}`, digests);
  }

  /**
   * forget notes that the blobs are no longer in `registry/repository` (a
   * mount from it failed: the repository was deleted or cleaned up), so later
   * pushes do not try it again, as docker drops stale mount sources.
   */
  forget(registry: string, repository: string, digests: Iterable<Digest>): Promise<void> {
    return this.#append("-", `${registry}/${repository}`, digests);
  }

  /** repositories lists the repositories of `registry` known to hold `digest`, most recent first. */
  async repositories(registry: string, digest: Digest): Promise<string[]> {
    return (
      (await this.load())
        .get(digest)
        ?.filter((s) => s.startsWith(`${registry}/`))
        .map((s) => s.slice(registry.length + 1)) ?? []
    );
  }

  /** load reads every fact: digest → `registry/repository` entries, most recent first. */
  async load(): Promise<Map<Digest, string[]>> {
    return parse(await this.#read()).facts;
  }

  /** compact rewrites the file now with only the live facts (see the class comment) and returns them. */
  compact(): Promise<Map<Digest, string[]>> {
    return withFileLock(`${this.path}.lock`, () => this.#compactLocked(true), LOCK);
  }

  async #append(prefix: "" | "-", source: string, digests: Iterable<Digest>): Promise<void> {
    // Each line starts with its newline, so a torn line left by a crash never swallows the next one.
    const lines = [...new Set(digests)].map((d) => `\n${prefix}${d} ${source}`).join("");
    if (!lines) return;
    await withFileLock(
      `${this.path}.lock`,
      async () => {
        await appendFile(this.path, lines);
        await this.#compactLocked(false);
      },
      LOCK,
    );
  }

  /** #compactLocked compacts (when `force`, or the file outgrew its limit) under the caller's lock. */
  async #compactLocked(force: boolean): Promise<Map<Digest, string[]>> {
    const limit = this.#options.compactBytes ?? 256 * 1024;
    if (!force) {
      const size = await stat(this.path).then(
        (s) => s.size,
        () => 0,
      );
      if (size <= limit) return new Map();
    }
    const text = await this.#read();
    const { facts, compactedSize } = parse(text);
    if (!force && text.length <= Math.max(limit, 2 * compactedSize)) return facts;
    const maxPer = this.#options.maxPerBlob ?? 8;
    const kept = [...facts].slice(-(this.#options.maxBlobs ?? 20_000));
    const live = new Map<Digest, string[]>();
    for (const [d, repos] of kept) {
      if (this.#options.hasBlob && !(await this.#options.hasBlob(d).catch(() => true))) continue;
      live.set(d, repos.slice(0, maxPer));
    }
    // Oldest first, so replaying the lines restores both orders (per blob and across blobs).
    let body = "";
    for (const [d, repos] of live) for (const r of [...repos].reverse()) body += `\n${d} ${r}`;
    await writeFileAtomic(this.path, `${HEADER}${body.length}${body}`);
    return live;
  }

  async #read(): Promise<string> {
    return readFile(this.path, "utf8").catch(() => "");
  }
}

/** LOCK: the file is a hint; writers give up after a few seconds rather than hold up a push or pull. */
const LOCK = { timeoutMs: 5_000 };

/**
 * parse replays the lines: digest → repositories most recent first, with the
 * map ordered from the least to the most recently touched blob.
 */
function parse(text: string): { facts: Map<Digest, string[]>; compactedSize: number } {
  const facts = new Map<Digest, string[]>();
  let compactedSize = 0;
  for (const raw of text.split("\n")) {
    if (raw.startsWith(HEADER)) {
      compactedSize = Number.parseInt(raw.slice(HEADER.length), 10) || 0;
      continue;
    }
    const negative = raw.startsWith("-");
    const line = negative ? raw.slice(1) : raw;
    const space = line.indexOf(" ");
    const d = line.slice(0, space);
    const repo = line.slice(space + 1).trim();
    if (space < 0 || !isDigest(d) || repo === "") continue;
    const list = facts.get(d) ?? [];
    facts.delete(d);
    const i = list.indexOf(repo);
    if (i >= 0) list.splice(i, 1);
    if (!negative) list.unshift(repo);
    if (list.length > 0) facts.set(d, list);
  }
  return { facts, compactedSize };
}
