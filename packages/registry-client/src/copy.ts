import { Readable } from "node:stream";
import {
  type Descriptor,
  type Digest,
  isForeignLayer,
  isIndexMediaType,
  isManifestMediaType,
  OciError,
  parseReference,
  type Reference,
  verified,
} from "@tsbuild/oci";
import { readBlob } from "./blobs.js";
import type { RegistryClient } from "./client.js";
import { mapLimit } from "./concurrency.js";
import { type FetchedManifest, fetchManifest, putManifest } from "./manifest.js";
import { notFoundAsDocker } from "./resolve.js";
import { pushOne } from "./sink.js";

/** CopyImageOptions tune {@link copy}. */
export interface CopyImageOptions {
  readonly signal?: AbortSignal;
  /** concurrency bounds the blobs copied at once (default 5). */
  readonly concurrency?: number;
  /** onBlob is told each blob's outcome as it is done. */
  readonly onBlob?: (digest: Digest, status: "pushed" | "exists" | "mounted") => void;
}

/** CopyResult says what {@link copy} wrote. */
export interface CopyResult {
  /** digest of the top manifest or index, now at the destination under its tag (or by digest). */
  readonly digest: Digest;
  readonly mediaType: string;
  /** manifests is how many manifests and indexes were put (an index counts with its children). */
  readonly manifests: number;
  readonly blobs: readonly { digest: Digest; status: "pushed" | "exists" | "mounted" }[];
}

/**
 * copy is crane copy: the image or index `src` names, from its registry to
 * `dst`, byte for byte (the same digests), with every platform of an index.
 * Each blob is skipped when `dst` has it, mounted when both repositories are
 * on one registry (nothing crosses the client), else streamed through and
 * verified against its digest on the way: a source that lies fails the copy
 * with DIGEST_MISMATCH, and no manifest is put, so `dst` names nothing
 * broken. Manifests go last, children before their index.
 */
export async function copy(
  client: RegistryClient,
  src: Reference | string,
  dst: Reference | string,
  options: CopyImageOptions = {},
): Promise<CopyResult> {
  const from = typeof src === "string" ? parseReference(src) : src;
  const to = typeof dst === "string" ? parseReference(dst) : dst;
  const signal = options.signal;
  const top = await fetchManifest(client, {
    registry: from.registry,
    repository: from.repository,
    reference: from.digest ?? from.tag ?? "latest",
    ...(signal && { signal }),
  }).catch((err: unknown) => {
    throw notFoundAsDocker(err, from);
  });
  if (to.digest !== undefined && to.digest !== top.digest) {
    throw new OciError(
      "INVALID_REFERENCE",
      `${to.toString()} names a digest, but the source is ${top.digest}`,
    );
  }
  const blobs: { digest: Digest; status: "pushed" | "exists" | "mounted" }[] = [];
  const state = { manifests: 0, blobs, done: new Set<string>() };
  await copyTree(client, from, to, top, to.tag ?? top.digest, options, state);
  return { digest: top.digest, mediaType: top.mediaType, manifests: state.manifests, blobs };
}

interface CopyState {
  manifests: number;
  readonly blobs: { digest: Digest; status: "pushed" | "exists" | "mounted" }[];
  readonly done: Set<string>;
}

async function copyTree(
  client: RegistryClient,
  from: Reference,
  to: Reference,
  fetched: FetchedManifest,
  reference: string,
  options: CopyImageOptions,
  state: CopyState,
): Promise<void> {
  const signal = options.signal;
  if (fetched.parsed.kind === "index") {
    for (const child of fetched.parsed.index.manifests) {
      if (!isManifestMediaType(child.mediaType) && !isIndexMediaType(child.mediaType)) {
        throw new OciError(
          "UNSUPPORTED_MEDIA_TYPE",
          `index entry ${child.digest} is a ${child.mediaType}, not a manifest or index`,
          { where: from.toString() },
        );
      }
      if (state.done.has(child.digest)) continue;
      const got = await fetchManifest(client, {
        registry: from.registry,
        repository: from.repository,
        reference: child.digest,
        ...(signal && { signal }),
      });
      await copyTree(client, from, to, got, child.digest, options, state);
      state.done.add(child.digest);
    }
  } else {
    const m = fetched.parsed.manifest;
    const seen = new Set<string>();
    const wanted = [m.config, ...m.layers.filter((l) => !isForeignLayer(l.mediaType))].filter(
      (d) => !state.done.has(d.digest) && !seen.has(d.digest) && seen.add(d.digest),
    );
    await mapLimit(wanted, options.concurrency ?? 5, async (desc) => {
      const status = await copyBlob(client, from, to, desc, signal);
      state.done.add(desc.digest);
      state.blobs.push({ digest: desc.digest, status });
      options.onBlob?.(desc.digest, status);
    });
  }
  await putManifest(
    client,
    { registry: to.registry, repository: to.repository, reference, ...(signal && { signal }) },
    { bytes: fetched.bytes, mediaType: fetched.mediaType },
  );
  state.manifests++;
}

/** copyBlob puts one blob into `to`'s repository: exists, mounted from `from`'s, or streamed through, verified. */
async function copyBlob(
  client: RegistryClient,
  from: Reference,
  to: Reference,
  desc: Descriptor,
  signal: AbortSignal | undefined,
): Promise<"pushed" | "exists" | "mounted"> {
  const source = { registry: from.registry, repository: from.repository };
  const where = `blob ${desc.digest} from ${from.registry}/${from.repository}`;
  let lie: OciError | undefined;
  // A lie stops the upload at once: the transport would otherwise replay the body (and the lie).
  const stop = new AbortController();
  const upload = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const open = () => {
    const bytes = Readable.from(readBlob(client, { ...source, ...(signal && { signal }) }, desc), {
      objectMode: false,
    });
    const checked = verified(bytes, desc, where);
    checked.on("error", (err) => {
      if (!(err instanceof OciError)) return;
      lie ??= err;
      stop.abort(err);
    });
    return checked;
  };
  try {
    return await pushOne(
      client,
      { registry: to.registry, repository: to.repository, signal: upload },
      { digest: desc.digest, size: desc.size, source, open },
    );
  } catch (err) {
    // The upload fails because its body did: the source's lie is the reason, not the broken request.
    if (lie)
      throw new OciError(lie.code, `failed verification: ${lie.message.replace(`${where}: `, "")}`, {
        where,
        cause: err,
      });
    throw err;
  }
}
