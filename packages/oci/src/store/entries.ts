import type { Digest } from "../digest.js";
import type { Descriptor, Index } from "../types.js";

/** REF_NAME is the OCI annotation that names an index entry; the store puts the full normalised name there. */
export const REF_NAME = "org.opencontainers.image.ref.name";
/** PARENT is the store's annotation for the image id an image was built on (docker's Parent). */
export const PARENT = "io.tsbuild.image.parent";
/** REPO_DIGESTS lists (comma-separated) the repositories that hold an image by digest (pulled or pushed), as docker's RepoDigests. */
export const REPO_DIGESTS = "io.tsbuild.image.repo-digests";
/** TAG_TIME records when a name was last attached (docker's Metadata.LastTagTime). */
export const TAG_TIME = "io.tsbuild.image.tag-time";

/**
 * StoreEntry is one image in the store: its manifest descriptor (annotations
 * shared by all its names, without REF_NAME) and its full names. index.json
 * holds one entry per name, or a single unnamed entry for a dangling image.
 */
export interface StoreEntry {
  descriptor: Descriptor;
  names: string[];
  tagTimes: Map<string, string>;
}

/** entriesFromIndex groups index.json entries by manifest digest, keeping first-seen order. */
export function entriesFromIndex(index: Index): StoreEntry[] {
  const byDigest = new Map<Digest, StoreEntry>();
  for (const desc of index.manifests) {
    const { [REF_NAME]: name, [TAG_TIME]: tagTime, ...shared } = desc.annotations ?? {};
    let entry = byDigest.get(desc.digest);
    if (!entry) {
      entry = { descriptor: withAnnotations(desc, shared), names: [], tagTimes: new Map() };
      byDigest.set(desc.digest, entry);
    } else {
      entry.descriptor = withAnnotations(entry.descriptor, { ...shared, ...entry.descriptor.annotations });
    }
    if (name !== undefined && !entry.names.includes(name)) {
      entry.names.push(name);
      if (tagTime !== undefined) entry.tagTimes.set(name, tagTime);
    }
  }
  return [...byDigest.values()];
}

/** indexFromEntries is the inverse of entriesFromIndex. */
export function indexFromEntries(entries: readonly StoreEntry[], base: Index): Index {
  const manifests: Descriptor[] = [];
  for (const e of entries) {
    if (e.names.length === 0) {
      manifests.push(e.descriptor);
      continue;
    }
    for (const name of e.names) {
      const tagTime = e.tagTimes.get(name);
      manifests.push(
        withAnnotations(e.descriptor, {
          ...e.descriptor.annotations,
          [REF_NAME]: name,
          ...(tagTime !== undefined && { [TAG_TIME]: tagTime }),
        }),
      );
    }
  }
  return { ...base, manifests };
}

function withAnnotations(desc: Descriptor, annotations: Record<string, string>): Descriptor {
  const { annotations: _old, ...rest } = desc;
  return Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest;
}

/** setAnnotation returns `desc` with one shared annotation set (or removed when `value` is undefined). */
export function setAnnotation(desc: Descriptor, key: string, value: string | undefined): Descriptor {
  const { [key]: _old, ...rest } = desc.annotations ?? {};
  return withAnnotations(desc, value === undefined ? rest : { ...rest, [key]: value });
}
