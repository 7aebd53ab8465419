import type { Digest } from "../digest.js";
import { OciError } from "../errors.js";
import { parseManifestOrIndex } from "../manifest.js";
import { isIndexMediaType, isManifestMediaType } from "../media-types.js";
import type { Descriptor } from "../types.js";

/** BlobReader is the part of a layout the reachability walk needs. */
export interface BlobReader {
  hasBlob(d: Digest): Promise<boolean>;
  readBlob(d: Digest): Promise<Buffer>;
}

/**
 * reachableBlobs walks from `roots` through indexes and manifests to their
 * configs and layers and returns every digest reached. Missing blobs are
 * allowed (a layout may be partial, e.g. foreign layers); a manifest that is
 * present but unreadable stops the walk with an error, because guessing there
 * could delete data that is still needed.
 */
export async function reachableBlobs(layout: BlobReader, roots: readonly Descriptor[]): Promise<Set<Digest>> {
  const seen = new Set<Digest>();
  const queue: Descriptor[] = [...roots];
  while (queue.length > 0) {
    const desc = queue.pop() as Descriptor;
    if (seen.has(desc.digest)) continue;
    seen.add(desc.digest);
    const mt = desc.mediaType;
    if (!isIndexMediaType(mt) && !isManifestMediaType(mt)) continue;
    if (!(await layout.hasBlob(desc.digest))) continue;
    let parsed: ReturnType<typeof parseManifestOrIndex>;
    try {
      parsed = parseManifestOrIndex(await layout.readBlob(desc.digest), mt);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new OciError("INVALID_LAYOUT", `cannot walk ${mt} ${desc.digest}: ${detail}`, {
        where: desc.digest,
        cause: err,
      });
    }
    if (parsed.kind === "index") {
      queue.push(...parsed.index.manifests);
      if (parsed.index.subject) queue.push(parsed.index.subject);
    } else {
      queue.push(parsed.manifest.config, ...parsed.manifest.layers);
      if (parsed.manifest.subject) queue.push(parsed.manifest.subject);
    }
  }
  return seen;
}
