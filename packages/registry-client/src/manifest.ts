import {
  type Digest,
  digestAlgorithm,
  digestOf,
  isDigest,
  type ManifestOrIndex,
  manifestAccept,
  OciError,
  parseDigest,
  parseManifestOrIndex,
} from "@tsbuild/oci";
import type { RegistryClient } from "./client.js";
import { isRegistryError, RegistryError } from "./errors.js";
import type { RegistryResponse } from "./response.js";

/** MANIFEST_SIZE_LIMIT bounds a manifest or index body (4 MiB, as containerd and the distribution registry do). */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;

/** ManifestTarget names a manifest in a repository by tag or digest. */
export interface ManifestTarget {
  readonly registry: string;
  readonly repository: string;
  /** reference is a tag or a digest. */
  readonly reference: string;
  readonly signal?: AbortSignal;
}

/** FetchedManifest is a manifest or index exactly as the registry served it, verified and parsed. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly parsed: ManifestOrIndex;
}

function manifestPath(t: ManifestTarget): string {
  return `/v2/${t.repository}/manifests/${t.reference}`;
}

function where(t: ManifestTarget): string {
  const sep = isDigest(t.reference) ? "@" : ":";
  return `${t.registry}/${t.repository}${sep}${t.reference}`;
}

/**
 * manifestRequest sends one request for the manifest `target` names: GET and
 * HEAD with every media type we understand in Accept, PUT with `put`'s body.
 */
function manifestRequest(
  client: RegistryClient,
  target: ManifestTarget,
  method: "GET" | "HEAD" | "PUT",
  put?: { headers: Record<string, string>; body: Buffer },
): Promise<RegistryResponse> {
  return client.request({
    registry: target.registry,
    repository: target.repository,
    method,
    path: manifestPath(target),
    headers: put ? put.headers : { accept: manifestAccept.join(", ") },
    ...(put ? { body: put.body } : {}),
    scope: method === "PUT" ? "pull,push" : "pull",
    ...(target.signal ? { signal: target.signal } : {}),
  });
}

/**
 * fetchManifest GETs a manifest with every media type we understand in
 * Accept, refuses bodies over `limit`, checks the bytes against the digest
 * asked for (or the Docker-Content-Digest the registry claims), and parses
 * them with the validating parsers. Nothing it returns is unverified.
 */
export async function fetchManifest(
  client: RegistryClient,
  target: ManifestTarget,
  options: { limit?: number } = {},
): Promise<FetchedManifest> {
  const limit = options.limit ?? MANIFEST_SIZE_LIMIT;
  const res = await manifestRequest(client, target, "GET");
  const declared = Number(res.header("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new RegistryError(
      "TOO_LARGE",
      `manifest for ${where(target)} is ${declared} bytes, over the ${limit}-byte limit`,
      { method: "GET", url: res.url, status: res.status },
    );
  }
  let bytes: Buffer;
  try {
    bytes = await res.bytes(limit);
  } catch (err) {
    if (isRegistryError(err, "TOO_LARGE")) {
      throw new RegistryError("TOO_LARGE", `manifest for ${where(target)} is over the ${limit}-byte limit`, {
        method: "GET",
        url: res.url,
        status: res.status,
        cause: err,
      });
    }
    throw err;
  }
  const claimed = res.header("docker-content-digest");
  const expected = isDigest(target.reference) ? target.reference : claimed;
  let digest = digestOf(bytes);
  // What the registry sent is wrong: a RegistryError, as every error of this package; the OciError that
  // found the fault is its cause.
  const at = { method: "GET", url: res.url, status: res.status };
  if (expected !== undefined && expected !== "") {
    let want: Digest;
    try {
      want = parseDigest(expected, `Docker-Content-Digest of ${where(target)}`);
    } catch (err) {
      throw new RegistryError("INVALID_RESPONSE", (err as Error).message, { ...at, cause: err });
    }
    const actual = digestOf(bytes, digestAlgorithm(want));
    if (actual !== want) {
      throw new RegistryError(
        "DIGEST_INVALID",
        `manifest for ${where(target)} does not match its digest: expected ${want}, got ${actual}`,
        at,
      );
    }
    digest = want;
  }
  const contentType = res.header("content-type");
  let parsed: ManifestOrIndex;
  try {
    parsed = parseManifestOrIndex(bytes, contentType);
  } catch (err) {
    if (err instanceof OciError) {
      throw new RegistryError("MANIFEST_INVALID", `invalid manifest from the registry: ${err.message}`, {
        ...at,
        cause: err,
      });
    }
    throw err;
  }
  return { bytes, digest, mediaType: parsed.mediaType, parsed };
}

/** ManifestHead is what a HEAD on a manifest says about it. */
export interface ManifestHead {
  readonly digest: Digest | undefined;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
}

/** headManifest returns what the registry says about a manifest, or undefined when it does not have it. */
export async function headManifest(
  client: RegistryClient,
  target: ManifestTarget,
): Promise<ManifestHead | undefined> {
  try {
    const res = await manifestRequest(client, target, "HEAD");
    await res.dump();
    const d = res.header("docker-content-digest");
    const size = Number(res.header("content-length"));
    return {
      digest: d && isDigest(d) ? d : undefined,
      mediaType: res.header("content-type"),
      size: Number.isFinite(size) ? size : undefined,
    };
  } catch (err) {
    if (isRegistryError(err) && (err.status === 404 || err.code === "MANIFEST_UNKNOWN")) return undefined;
    throw err;
  }
}

/**
 * putManifest uploads manifest bytes under a tag or digest with their media
 * type as Content-Type and checks that the registry's Docker-Content-Digest
 * is the digest of exactly these bytes, so the pushed image is verifiable by
 * digest.
 */
export async function putManifest(
  client: RegistryClient,
  target: ManifestTarget,
  manifest: { bytes: Uint8Array; mediaType: string },
): Promise<Digest> {
  const bytes = Buffer.from(manifest.bytes);
  const digest = digestOf(bytes);
  const res = await manifestRequest(client, target, "PUT", {
    headers: { "content-type": manifest.mediaType },
    body: bytes,
  });
  await res.dump();
  const returned = res.header("docker-content-digest");
  if (returned !== undefined && returned !== "" && returned !== digest) {
    throw new RegistryError(
      "INVALID_RESPONSE",
      `registry stored manifest ${where(target)} as ${returned}, but its digest is ${digest}`,
      { method: "PUT", url: res.url, status: res.status },
    );
  }
  return digest;
}
