import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { canonicalJson } from "../canonical-json.js";
import { type Digest, digestHex, digestOf } from "../digest.js";
import { OciError } from "../errors.js";
import { encodeTarHeader, TAR_TRAILER, tarPadding } from "../layer/tar-header.js";
import { parseManifest } from "../manifest.js";
import { MediaType } from "../media-types.js";
import { parseReference } from "../reference.js";
import type { Descriptor, Manifest } from "../types.js";

/** ArchiveImageInput is one image to put into a docker archive. */
export interface ArchiveImageInput {
  /** names are full references (`docker.io/library/nginx:latest`); untagged names are kept only in index.json. */
  names: string[];
  /** manifest is the image manifest's exact bytes (their digest goes into index.json). */
  manifest: Uint8Array | string;
  /** config is the image config's exact bytes. */
  config: Uint8Array | string;
  /** blob opens a layer blob by digest. */
  blob: (
    digest: Digest,
  ) => Readable | AsyncIterable<Uint8Array> | Promise<Readable | AsyncIterable<Uint8Array>>;
}

export interface WriteArchiveOptions {
  signal?: AbortSignal;
}

const MTIME = 0;

function bytesOf(x: Uint8Array | string): Buffer {
  return typeof x === "string" ? Buffer.from(x) : Buffer.from(x.buffer, x.byteOffset, x.length);
}

function header(name: string, size: number, type: "file" | "dir" = "file"): Buffer {
  return encodeTarHeader({
    name,
    type,
    mode: type === "dir" ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: MTIME,
  });
}

function fileEntry(name: string, data: Buffer): Buffer {
  return Buffer.concat([header(name, data.length), data, Buffer.alloc(tarPadding(data.length))]);
}

function blobPath(d: Digest): string {
  return `blobs/${d.slice(0, d.indexOf(":"))}/${digestHex(d)}`;
}

/** dockerTag turns a full reference into the RepoTags form docker uses (`nginx:latest`), or undefined without a tag. */
function dockerTag(name: string): { repo: string; tag: string } | undefined {
  const ref = parseReference(name);
  if (ref.tag === undefined) return undefined;
  return { repo: ref.familiarName, tag: ref.tag };
}

/**
 * writeDockerArchive writes images in the `docker save` format — manifest.json,
 * repositories, config and layer files — laid out as current Docker (25+)
 * does, so the same tar is also an OCI image layout (oci-layout, index.json,
 * blobs/sha256/…): `docker load`, `skopeo … docker-archive:` and `skopeo …
 * oci-archive:` all read it. Blobs are stored once, as they are in the store
 * (gzip layers stay gzip with their media type, which both docker load and
 * skopeo decompress), so every digest stays valid for both readers. Docker
 * schema2 manifests are rewritten with OCI media types over the same blobs
 * (see ociManifestFor). Each layer is streamed and checked against its
 * descriptor's size and digest.
 */
export async function writeDockerArchive(
  dest: Writable | string,
  images: ArchiveImageInput[],
  opts: WriteArchiveOptions = {},
): Promise<void> {
  const stream = Readable.from(archiveChunks(images, opts), { objectMode: false });
  if (typeof dest !== "string") {
    await pipeline(stream, dest, { signal: opts.signal });
    return;
  }
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  try {
    await pipeline(stream, createWriteStream(tmp), { signal: opts.signal });
    await rename(tmp, dest);
  } catch (err) {
    // Cleanup must not replace the real error (an unwritable directory fails the rm's lstat too).
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

const OCI_EQUIVALENT: Record<string, string> = {
  [MediaType.DockerConfig]: MediaType.OciConfig,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerForeignLayerGzip]: MediaType.OciLayerNondistributableGzip,
};

/**
 * ociManifestFor rewrites a Docker schema2 manifest as an OCI manifest over the
 * same blobs (only media types change), because OCI readers such as skopeo's
 * oci-archive transport only look at OCI-typed entries in index.json. The
 * image ID (config digest) is unchanged; docker save does not keep repo
 * digests either.
 */
function ociManifestFor(m: Manifest, bytes: Buffer): { manifest: Manifest; bytes: Buffer } {
  if (m.mediaType !== MediaType.DockerManifest) return { manifest: m, bytes };
  const conv = (d: Descriptor): Descriptor => ({
    ...d,
    mediaType: OCI_EQUIVALENT[d.mediaType] ?? d.mediaType,
  });
  const manifest: Manifest = {
    ...m,
    mediaType: MediaType.OciManifest,
    config: conv(m.config),
    layers: m.layers.map(conv),
  };
  return { manifest, bytes: canonicalJson(manifest) };
}

interface Prepared {
  input: ArchiveImageInput;
  manifestBytes: Buffer;
  manifest: Manifest;
  manifestDigest: Digest;
  mediaType: string;
  config: Buffer;
}

async function* archiveChunks(
  images: ArchiveImageInput[],
  opts: WriteArchiveOptions,
): AsyncGenerator<Buffer> {
  const prepared: Prepared[] = images.map((input, i) => {
    const original = bytesOf(input.manifest);
    const { manifest, bytes: manifestBytes } = ociManifestFor(parseManifest(original), original);
    const config = bytesOf(input.config);
    const cd = digestOf(config, "sha256");
    if (cd !== manifest.config.digest || config.length !== manifest.config.size) {
      throw new OciError(
        "DIGEST_MISMATCH",
        `config bytes do not match the manifest's config descriptor ${manifest.config.digest}`,
        {
          where: `images[${i}]`,
        },
      );
    }
    return {
      input,
      manifestBytes,
      manifest,
      manifestDigest: digestOf(manifestBytes),
      mediaType: manifest.mediaType ?? MediaType.OciManifest,
      config,
    };
  });

  yield header("blobs/", 0, "dir");
  yield header("blobs/sha256/", 0, "dir");
  const written = new Set<string>();
  for (const p of prepared) {
    for (const layer of p.manifest.layers) {
      if (written.has(layer.digest)) continue;
      written.add(layer.digest);
      opts.signal?.throwIfAborted();
      yield header(blobPath(layer.digest), layer.size);
      yield* copyBlob(await p.input.blob(layer.digest), layer);
      yield Buffer.alloc(tarPadding(layer.size));
    }
    for (const [d, bytes] of [
      [p.manifest.config.digest, p.config],
      [p.manifestDigest, p.manifestBytes],
    ] as const) {
      if (written.has(d)) continue;
      written.add(d);
      yield fileEntry(blobPath(d), bytes);
    }
  }

  const indexManifests: Descriptor[] = [];
  const dockerManifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const p of prepared) {
    const desc = { mediaType: p.mediaType, digest: p.manifestDigest, size: p.manifestBytes.length };
    const repoTags: string[] = [];
    for (const name of p.input.names) {
      const full = parseReference(name).toString();
      const t = dockerTag(name);
      const annotations: Record<string, string> = { "io.containerd.image.name": full };
      if (t) annotations["org.opencontainers.image.ref.name"] = t.tag;
      indexManifests.push({ ...desc, annotations });
      if (t) {
        repoTags.push(`${t.repo}:${t.tag}`);
        const top = p.manifest.layers[p.manifest.layers.length - 1];
        if (top) {
          repositories[t.repo] ??= {};
          repositories[t.repo]![t.tag] = digestHex(top.digest);
        }
      }
    }
    if (p.input.names.length === 0) indexManifests.push(desc);
    dockerManifest.push({
      Config: blobPath(p.manifest.config.digest),
      RepoTags: repoTags,
      Layers: p.manifest.layers.map((l) => blobPath(l.digest)),
    });
  }
  yield fileEntry(
    "index.json",
    canonicalJson({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: indexManifests }),
  );
  yield fileEntry("manifest.json", Buffer.from(JSON.stringify(dockerManifest)));
  yield fileEntry("oci-layout", Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  yield fileEntry("repositories", Buffer.from(JSON.stringify(repositories)));
  yield TAR_TRAILER;
}

async function* copyBlob(src: AsyncIterable<Uint8Array>, d: Descriptor): AsyncGenerator<Buffer> {
  const h = createHash(d.digest.slice(0, d.digest.indexOf(":")));
  let n = 0;
  for await (const c of src) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.length);
    n += b.length;
    if (n > d.size) break;
    h.update(b);
    yield b;
  }
  if (n !== d.size) {
    throw new OciError(
      "SIZE_MISMATCH",
      `blob has ${n > d.size ? "more" : "fewer"} bytes than the ${d.size} its descriptor says`,
      {
        where: d.digest,
      },
    );
  }
  const got = `${d.digest.slice(0, d.digest.indexOf(":"))}:${h.digest("hex")}`;
  if (got !== d.digest)
    throw new OciError("DIGEST_MISMATCH", `blob content hashes to ${got}`, { where: d.digest });
}
