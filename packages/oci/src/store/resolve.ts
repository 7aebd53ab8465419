import type { Digest } from "../digest.js";
import { digestHex } from "../digest.js";
import { OciError } from "../errors.js";
import { isIndexMediaType, isManifestMediaType } from "../media-types.js";
import { parseReference } from "../reference.js";
import type { StoreEntry } from "./entries.js";

const ID_RE = /^(?:sha256:)?([0-9a-f]{1,64})$/;

/**
 * locate resolves `s` among `entries` as docker does: a full 64-hex id (with
 * or without `sha256:`) is an id; otherwise the name (or `name@digest`) is
 * tried first and, failing that, an id prefix. `byName` is set when `s`
 * named the image by a tag (so removing it only untags).
 */
export async function locate(
  entries: readonly StoreEntry[],
  idOf: (e: StoreEntry) => Promise<Digest | undefined>,
  s: string,
): Promise<{ entry: StoreEntry; byName?: string }> {
  const idMatch = ID_RE.exec(s);
  if (idMatch && idMatch[1]?.length === 64) return { entry: await byIdPrefix(entries, idOf, idMatch[1], s) };
  let ref: ReturnType<typeof parseReference> | undefined;
  try {
    ref = parseReference(s);
  } catch (err) {
    if (!idMatch) throw err;
  }
  if (ref?.digest !== undefined) {
    const matches = entries.filter((e) => e.descriptor.digest === ref.digest);
    const inRepo = matches.find((e) => e.names.some((n) => parseReference(n).name === ref.name));
    const found = inRepo ?? matches[0];
    if (found) return { entry: found };
  } else if (ref) {
    const full = ref.toString();
    const found = entries.find((e) => e.names.includes(full));
    if (found) return { entry: found, byName: full };
  }
  if (idMatch?.[1] !== undefined) return { entry: await byIdPrefix(entries, idOf, idMatch[1], s) };
  throw notFound(s);
}

async function byIdPrefix(
  entries: readonly StoreEntry[],
  idOf: (e: StoreEntry) => Promise<Digest | undefined>,
  hexPrefix: string,
  input: string,
): Promise<StoreEntry> {
  const hits = new Map<Digest, StoreEntry>();
  // idOf answers for the images (a multi-platform one included); other entries have no id.
  for (const e of entries.filter((x) => isImageEntry(x) || isIndexEntry(x))) {
    const id = await idOf(e);
    // An image whose id cannot be read is found by name only.
    if (id === undefined) continue;
    if (digestHex(id).startsWith(hexPrefix) && !hits.has(id)) hits.set(id, e);
  }
  if (hits.size > 1) {
    throw new OciError(
      "AMBIGUOUS_REFERENCE",
      `image id prefix ${JSON.stringify(input)} matches ${hits.size} images`,
    );
  }
  const [hit] = hits.values();
  if (!hit) throw notFound(input);
  return hit;
}

/** isImageEntry: an entry for one image manifest (a multi-platform image is an index entry). */
export function isImageEntry(e: StoreEntry): boolean {
  return isManifestMediaType(e.descriptor.mediaType);
}

/** isIndexEntry: an entry for a multi-platform image (an OCI index or Docker manifest list). */
export function isIndexEntry(e: StoreEntry): boolean {
  return isIndexMediaType(e.descriptor.mediaType);
}

export function normalizeName(name: string): string {
  const ref = parseReference(name);
  if (ref.digest !== undefined) {
    throw new OciError("INVALID_REFERENCE", "a name to tag an image with cannot contain a digest", {
      where: JSON.stringify(name),
    });
  }
  return ref.toString();
}

export function attachName(entries: readonly StoreEntry[], entry: StoreEntry, name: string): void {
  for (const e of entries) if (e !== entry) detachName(e, name);
  if (!entry.names.includes(name)) entry.names.push(name);
  entry.tagTimes.set(name, new Date().toISOString());
}

export function detachName(entry: StoreEntry, name: string): void {
  entry.names = entry.names.filter((n) => n !== name);
  entry.tagTimes.delete(name);
}

export function notFound(s: string): OciError {
  return new OciError("IMAGE_NOT_FOUND", `No such image: ${s}`);
}

export function shortId(id: Digest): string {
  return digestHex(id).slice(0, 12);
}
