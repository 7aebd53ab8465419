import { createReadStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import type { Descriptor, Digest } from "@tsbuild/oci";
import type { RegistryClient } from "./client.js";
import { isRegistryError, RegistryError } from "./errors.js";
import { readAhead } from "./read-ahead.js";
import { COMMIT_HEADERS_FACTOR, isTimeoutCode } from "./transport/timeouts.js";

/** RepositoryTarget names a repository on a registry. */
export interface RepositoryTarget {
  readonly registry: string;
  readonly repository: string;
  readonly signal?: AbortSignal;
}

function sig(t: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return t.signal ? { signal: t.signal } : {};
}

/** blobSize HEADs a blob and returns its size, or undefined when the repository does not have it. */
export async function blobSize(
  client: RegistryClient,
  target: RepositoryTarget,
  digest: Digest,
): Promise<number | undefined> {
  const res = await client.request({
    registry: target.registry,
    repository: target.repository,
    method: "HEAD",
    path: `/v2/${target.repository}/blobs/${digest}`,
    expectStatus: [200, 404],
    scope: "pull",
    ...sig(target),
  });
  await res.dump();
  if (res.status === 404) return undefined;
  const size = Number(res.header("content-length"));
  return Number.isFinite(size) ? size : -1;
}

/** BlobReadOptions tunes readBlob. */
export interface BlobReadOptions {
  /** onBytes is called with the running byte count as data arrives. */
  readonly onBytes?: (current: number) => void;
  /** maxResumes bounds how often a dropped transfer is resumed with a Range request (default 3). */
  readonly maxResumes?: number;
  /**
   * readAhead bounds what is received ahead of the consumer (default 8 MiB),
   * so the network keeps receiving while a disk write is in the thread pool.
   */
  readonly readAhead?: number;
}

/**
 * readBlob streams a blob's bytes. When the connection drops or the body ends
 * short, it asks for the rest with `Range: bytes=N-` (skipping what a server
 * that ignores Range resends), up to `maxResumes` times; a body that stalled
 * (fell under the speed floor) is resumed once, as retry.ts retries a
 * timeout once, and a request that timed out was already retried, so it
 * fails at once, keeping its code. It does not verify the digest: the sink
 * (OciLayout.writeBlob) does, and keeps nothing that does not match.
 */
export async function* readBlob(
  client: RegistryClient,
  target: RepositoryTarget,
  desc: Pick<Descriptor, "digest" | "size">,
  options: BlobReadOptions = {},
): AsyncGenerator<Buffer> {
  const maxResumes = options.maxResumes ?? 3;
  let offset = 0;
  let resumes = 0;
  let stalls = 0;
  for (;;) {
    let skip = 0;
    let lastError: unknown;
    try {
      const res = await client.request({
        registry: target.registry,
        repository: target.repository,
        method: "GET",
        path: `/v2/${target.repository}/blobs/${desc.digest}`,
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        expectStatus: offset > 0 ? [200, 206] : [200],
        scope: "pull",
        ...sig(target),
      });
      if (offset > 0) {
        const start = /^bytes (\d+)-/.exec(res.header("content-range") ?? "")?.[1];
        if (res.status === 200) skip = offset;
        else if (start === undefined || Number(start) > offset) {
          res.body.destroy();
          throw new RegistryError(
            "INVALID_RESPONSE",
            `bad Content-Range ${res.header("content-range")} for a resume at ${offset}`,
            {
              method: "GET",
              url: res.url,
              status: res.status,
            },
          );
        } else skip = offset - Number(start);
      }
      try {
        for await (let chunk of readAhead(res.body, options.readAhead ?? 8 * 1024 * 1024)) {
          if (skip > 0) {
            if (chunk.length <= skip) {
              skip -= chunk.length;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          if (offset + chunk.length > desc.size) {
            throw new RegistryError(
              "INVALID_RESPONSE",
              `blob ${desc.digest} is longer than its ${desc.size} bytes`,
              {
                method: "GET",
                url: res.url,
                status: res.status,
              },
            );
          }
          offset += chunk.length;
          options.onBytes?.(offset);
          yield chunk;
        }
      } catch (err) {
        if (isRegistryError(err, "INVALID_RESPONSE")) throw err;
        lastError = err;
      }
      if (lastError === undefined && offset >= desc.size) return;
      lastError ??= new Error("body ended early");
    } catch (err) {
      if (!isRegistryError(err) || !err.temporary || err.code === "ABORTED" || isTimeoutCode(err.code))
        throw err;
      lastError = err;
    }
    if (target.signal?.aborted) throw target.signal.reason;
    const stalled = isRegistryError(lastError) && isTimeoutCode(lastError.code);
    if (stalled && stalls++ >= MAX_STALL_RESUMES) {
      const e = lastError as RegistryError;
      throw new RegistryError(
        e.code,
        `blob ${desc.digest} stalled at ${offset} of ${desc.size} bytes (${resumes} resumes): ${e.message}`,
        { cause: e },
      );
    }
    if (resumes >= maxResumes) {
      throw new RegistryError(
        stalled ? (lastError as RegistryError).code : "CONNECTION_RESET",
        `blob ${desc.digest} was cut off after ${offset} of ${desc.size} bytes (${resumes} resumes): ${(lastError as Error).message}`,
        { cause: lastError },
      );
    }
    resumes++;
  }
}

/** MAX_STALL_RESUMES: a blob body that stalled is resumed once; one that stalls again fails. */
const MAX_STALL_RESUMES = 1;

/** UploadStart is where a new upload session lives, or that a cross-repository mount already did the job. */
export type UploadStart = { mounted: true } | { mounted: false; location: string; minChunk: number };

/**
 * startUpload opens an upload session (POST .../blobs/uploads/). With
 * `mount`, it asks the registry to link the blob from another repository of
 * the same registry instead (201: done, nothing to send); a registry that
 * cannot mount answers 202 with a fresh session, which the caller uses.
 */
export async function startUpload(
  client: RegistryClient,
  target: RepositoryTarget,
  mount?: { digest: Digest; from: string },
): Promise<UploadStart> {
  const query = mount
    ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}`
    : "";
  const res = await client.request({
    registry: target.registry,
    repository: target.repository,
    method: "POST",
    path: `/v2/${target.repository}/blobs/uploads/${query}`,
    expectStatus: [201, 202],
    scope: "pull,push",
    ...(mount ? { extraScopes: [`repository:${mount.from}:pull`] } : {}),
    idempotent: true,
    ...sig(target),
  });
  await res.dump();
  if (res.status === 201) return { mounted: true };
  const location = res.header("location");
  if (!location) {
    throw new RegistryError("INVALID_RESPONSE", "upload session started without a Location", {
      method: "POST",
      url: res.url,
      status: res.status,
    });
  }
  const minChunk = Number(res.header("oci-chunk-min-length") ?? 0);
  return {
    mounted: false,
    location: new URL(location, res.url).href,
    minChunk: Number.isFinite(minChunk) ? minChunk : 0,
  };
}

/** cancelUpload abandons an upload session (best effort: a registry also expires them). */
export async function cancelUpload(
  client: RegistryClient,
  target: RepositoryTarget,
  location: string,
): Promise<void> {
  try {
    const res = await client.request({
      registry: target.registry,
      repository: target.repository,
      method: "DELETE",
      path: location,
      expectStatus: [200, 202, 204, 404],
      scope: "pull,push",
      ...sig(target),
    });
    await res.dump();
  } catch {
    // The session times out on the registry anyway.
  }
}

/** UploadOptions says how to send a blob's bytes. */
export interface UploadOptions {
  /** path is the file holding the blob (read with ranges for chunks and replays). */
  readonly path?: string;
  /**
   * open streams the blob from its start instead (a blob streamed through
   * from elsewhere): it is sent in one PUT, opened again for a replay.
   */
  readonly open?: () => Readable | AsyncIterable<Uint8Array>;
  /** chunkThreshold: blobs up to this size go in one PUT; larger ones in PATCH chunks (default 256 MiB). */
  readonly chunkThreshold?: number;
  /** chunkSize is the PATCH size (default 64 MiB; raised to the registry's OCI-Chunk-Min-Length). */
  readonly chunkSize?: number;
  readonly onBytes?: (current: number) => void;
}

/** DEFAULT_CHUNK_THRESHOLD: one streamed PUT is the fastest upload; chunks only pay off for very large blobs. */
export const DEFAULT_CHUNK_THRESHOLD = 256 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;

/**
 * uploadBlob sends a blob into an upload session: one monolithic
 * `PUT ?digest=` for blobs up to the threshold, else PATCHes with
 * Content-Range that follow each returned Location and resume from the
 * registry's Range, then a closing PUT. Bodies are file-range factories, so
 * the transport can replay them.
 */
export async function uploadBlob(
  client: RegistryClient,
  target: RepositoryTarget,
  session: { location: string; minChunk: number },
  desc: Pick<Descriptor, "digest" | "size">,
  options: UploadOptions,
): Promise<void> {
  const threshold = options.open
    ? Number.POSITIVE_INFINITY
    : (options.chunkThreshold ?? DEFAULT_CHUNK_THRESHOLD);
  const body = (start: number, end: number) => () => {
    const stream: Readable = options.open
      ? Readable.from(options.open(), { objectMode: false })
      : createReadStream(options.path ?? "", { start, end: end - 1, highWaterMark: 1024 * 1024 });
    if (!options.onBytes) return stream;
    let sent = start;
    const onBytes = options.onBytes;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        onBytes(sent);
        cb(null, chunk);
      },
    });
    // pipe() does not forward errors: a file that cannot be read must fail the request, not the process.
    stream.on("error", (err: Error) => counted.destroy(err));
    return stream.pipe(counted);
  };
  let location = session.location;
  // The registry verifies and moves the blob before it answers the PUT that completes the upload.
  const commitMs = client.timeouts.headersMs * COMMIT_HEADERS_FACTOR;
  const base = {
    registry: target.registry,
    repository: target.repository,
    scope: "pull,push" as const,
    ...sig(target),
  };
  if (desc.size <= threshold) {
    const res = await client.request({
      ...base,
      method: "PUT",
      path: withDigest(location, desc.digest),
      headers: { "content-type": "application/octet-stream", "content-length": String(desc.size) },
      body: desc.size === 0 ? Buffer.alloc(0) : body(0, desc.size),
      expectStatus: [201, 204],
      headersTimeoutMs: commitMs,
    });
    await res.dump();
    return;
  }
  const chunkSize = Math.max(options.chunkSize ?? DEFAULT_CHUNK_SIZE, session.minChunk);
  let offset = 0;
  while (offset < desc.size) {
    const end = Math.min(offset + chunkSize, desc.size);
    const res = await client.request({
      ...base,
      method: "PATCH",
      path: location,
      headers: {
        "content-type": "application/octet-stream",
        "content-range": `${offset}-${end - 1}`,
        "content-length": String(end - offset),
      },
      body: body(offset, end),
      expectStatus: [202, 204],
    });
    await res.dump();
    location = new URL(res.header("location") ?? location, res.url).href;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(res.header("range") ?? "");
    offset = range?.[1] !== undefined ? Number(range[1]) + 1 : end;
  }
  const res = await client.request({
    ...base,
    method: "PUT",
    path: withDigest(location, desc.digest),
    headers: { "content-length": "0" },
    body: Buffer.alloc(0),
    expectStatus: [201, 204],
    headersTimeoutMs: commitMs,
  });
  await res.dump();
}

/** withDigest is an upload Location with the `digest` parameter that completes the upload. */
function withDigest(location: string, digest: Digest): string {
  const url = new URL(location);
  url.searchParams.set("digest", digest);
  return url.href;
}
