import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Digest, isDigest } from "@tsbuild/oci";

/** BLOB_SOURCES_FILE is the store file that remembers which repositories a blob was pulled from or pushed to. */
export const BLOB_SOURCES_FILE = "blob-sources";

/**
 * BlobSources remembers, per store, where blobs are known to live
 * (`registry/repository`), so a push can ask the registry to mount a blob
 * from another repository instead of uploading it again (docker keeps the
 * same in its distribution metadata). The file is append-only, one
 * `digest registry/repository` line per fact (`-digest registry/repository`
 * when a mount showed it gone): concurrent writers' appends
 * interleave whole lines and nothing is lost, and damaged lines are skipped.
 */
export class BlobSources {
  readonly path: string;

  constructor(storeRoot: string) {
    this.path = join(storeRoot, BLOB_SOURCES_FILE);
  }

  /** record notes that the blobs live in `registry/repository`. */
  async record(registry: string, repository: string, digests: Iterable<Digest>): Promise<void> {
    // Each line starts with its newline, so a torn line left by a crash never swallows the next one.
    const lines = [...new Set(digests)].map((d) => `\n${d} ${registry}/${repository}`).join("");
    if (lines) await appendFile(this.path, lines);
  }

  /**
   * forget notes that the blobs are no longer in `registry/repository` (a
   * mount from it failed: the repository was deleted or cleaned up), so later
   * pushes do not try it again, as docker drops stale mount sources.
   */
  async forget(registry: string, repository: string, digests: Iterable<Digest>): Promise<void> {
    const lines = [...new Set(digests)].map((d) => `\n-${d} ${registry}/${repository}`).join("");
    if (lines) await appendFile(this.path, lines);
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
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch {
      return new Map();
    }
    const out = new Map<Digest, string[]>();
    for (const raw of text.split("\n")) {
      const negative = raw.startsWith("-");
      const line = negative ? raw.slice(1) : raw;
      const space = line.indexOf(" ");
      const d = line.slice(0, space);
      const repo = line.slice(space + 1).trim();
      if (space < 0 || !isDigest(d) || repo === "") continue;
      const list = out.get(d) ?? [];
      const i = list.indexOf(repo);
      if (i >= 0) list.splice(i, 1);
      if (!negative) list.unshift(repo);
      if (list.length > 0) out.set(d, list);
      else out.delete(d);
    }
    return out;
  }
}
