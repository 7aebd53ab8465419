import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { canonicalJson } from "../canonical-json.js";
import { parseImageConfig } from "../config.js";
import { type Digest, digestOf, isDigest, parseDigest } from "../digest.js";
import { locateError, OciError } from "../errors.js";
import { fileError } from "../layout/fsutil.js";
import { parseManifest, parseManifestOrIndex } from "../manifest.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../media-types.js";
import { parseReference } from "../reference.js";
import type { Descriptor, Manifest, Platform } from "../types.js";
import { indexTar, normalizeMemberName, type TarMember } from "./tar-index.js";

/** ArchiveImage is one image found in an archive. */
export interface ArchiveImage {
  /**
   * names from index.json annotations (`io.containerd.image.name`, else the bare
   * `org.opencontainers.image.ref.name`) and manifest.json RepoTags; docker-style
   * names are normalised to full references.
   */
  names: string[];
  manifest: Manifest;
  /** manifestBytes are the exact bytes whose digest is manifestDigest. */
  manifestBytes: Buffer;
  manifestDigest: Digest;
  config: Buffer;
  /** platform from the index descriptor, when the archive holds a multi-platform index. */
  platform?: Platform;
}

/** Archive is an opened docker-archive or OCI archive tar. */
export interface Archive {
  format: "oci" | "docker";
  images: ArchiveImage[];
  hasBlob(digest: Digest): boolean;
  /** openBlob streams a blob; the stream errors with DIGEST_MISMATCH if its bytes do not hash to `digest`. */
  openBlob(digest: Digest): Readable;
  /** close removes the temporary copy made for a compressed archive. */
  close(): Promise<void>;
}

/** fullName normalises a docker-style name (`nginx:latest` → `docker.io/library/nginx:latest`); names that do not parse are kept. */
function fullName(n: string): string {
  try {
    return parseReference(n).toString();
  } catch {
    return n;
  }
}

interface BlobLocation extends TarMember {
  digest: Digest;
}

const MAX_JSON = 16 * 1024 * 1024;

async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * readArchive opens a `docker save` archive (manifest.json, in the current
 * blobs/ layout or the older `<id>/layer.tar` one) or an OCI archive
 * (index.json + blobs), gzip-compressed or not. Only headers are read up
 * front; manifests and configs are checked against their digests, every path
 * the archive refers to must stay inside it, and blobs are verified as they
 * are streamed.
 */
export async function readArchive(src: string): Promise<Archive> {
  let path = src;
  let tmp: string | undefined;
  let st: Stats;
  try {
    st = await stat(src);
  } catch (err) {
    throw fileError(err, "reading the archive", src);
  }
  if (st.isDirectory())
    throw new OciError("INVALID_ARCHIVE", "is a directory, not a tar archive", { where: src });
  if (!st.isFile())
    throw new OciError("INVALID_ARCHIVE", "is not a regular file; give a tar archive, or pipe it to stdin", {
      where: src,
    });
  if (
    await isGzipFile(src).catch((err: unknown) => Promise.reject(fileError(err, "reading the archive", src)))
  ) {
    tmp = await mkdtemp(join(tmpdir(), "tsbuild-archive-"));
    path = join(tmp, "archive.tar");
    try {
      await pipeline(createReadStream(src), createGunzip(), createWriteStream(path));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if ((err as { code?: string }).code?.startsWith("Z_")) {
        throw new OciError(
          "INVALID_ARCHIVE",
          `not a gzip-compressed tar archive: ${(err as Error).message}`,
          {
            where: src,
            cause: err,
          },
        );
      }
      throw fileError(err, `decompressing the archive into ${tmp}`, src);
    }
  }
  try {
    const members = await indexTar(path).catch((err: unknown) => {
      // The decompressed copy is ours: name the archive the user gave.
      if (tmp && err instanceof Error) err.message = err.message.split(path).join(src);
      throw fileError(err, "reading the archive", src);
    });
    const fh = await open(path, "r");
    const readMember = async (name: string, max = MAX_JSON): Promise<Buffer> => {
      const m = members.get(name);
      if (!m)
        throw new OciError("INVALID_ARCHIVE", "file is missing from the archive", {
          where: `${src}:${name}`,
        });
      if (m.size > max)
        throw new OciError("INVALID_ARCHIVE", `file is larger than ${max} bytes`, {
          where: `${src}:${name}`,
        });
      const b = Buffer.alloc(m.size);
      await fh.read(b, 0, m.size, m.offset);
      return b;
    };
    const blobs = new Map<string, BlobLocation>();
    for (const [name, m] of members) {
      const match = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(name);
      if (match && isDigest(`${match[1]}:${match[2]}`)) {
        const digest = `${match[1]}:${match[2]}` as Digest;
        blobs.set(digest, { ...m, digest });
      }
    }
    let result: { format: "oci" | "docker"; images: ArchiveImage[] };
    try {
      result = members.has("index.json")
        ? await readOci(src, readMember, blobs, members)
        : await readDocker(src, readMember, blobs, members, path);
    } finally {
      await fh.close();
    }
    return {
      ...result,
      hasBlob: (d) => blobs.has(d),
      openBlob: (d) => {
        const loc = blobs.get(d);
        if (!loc)
          throw new OciError("BLOB_NOT_FOUND", "blob is not in the archive", { where: `${src}:${d}` });
        return verifiedRange(path, loc, src);
      },
      close: async () => {
        if (tmp) await rm(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * verifiedRange streams one archive member and fails with DIGEST_MISMATCH at
 * its end if the bytes do not hash to the blob's digest. It opens the file
 * only when first read, so a stream that is never consumed (the blob is
 * already stored) neither reads nor errors unheard.
 */
function verifiedRange(path: string, loc: BlobLocation, src: string): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    const alg = loc.digest.slice(0, loc.digest.indexOf(":"));
    const h = createHash(alg);
    if (loc.size > 0) {
      for await (const chunk of createReadStream(path, {
        start: loc.offset,
        end: loc.offset + loc.size - 1,
      })) {
        h.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    }
    const got = `${alg}:${h.digest("hex")}`;
    if (got !== loc.digest) {
      throw new OciError("DIGEST_MISMATCH", `blob hashes to ${got}`, { where: `${src}:${loc.digest}` });
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}

type ReadMember = (name: string, max?: number) => Promise<Buffer>;

/** located runs a parser, naming the archive member in any error it throws. */
function located<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw locateError(err, where);
  }
}

/** member names a blob's file inside an OCI archive, for errors. */
function member(src: string, d: Descriptor): string {
  return `${src}:blobs/${d.digest.replace(":", "/")}`;
}

function blobMember(d: Descriptor, blobs: Map<string, BlobLocation>, src: string): BlobLocation {
  const loc = blobs.get(d.digest);
  if (!loc)
    throw new OciError("BLOB_NOT_FOUND", "blob referenced by the archive is missing", {
      where: `${src}:${d.digest}`,
    });
  if (loc.size !== d.size) {
    throw new OciError("SIZE_MISMATCH", `blob is ${loc.size} bytes, descriptor says ${d.size}`, {
      where: `${src}:${d.digest}`,
    });
  }
  return loc;
}

async function readVerified(
  d: Descriptor,
  read: ReadMember,
  blobs: Map<string, BlobLocation>,
  src: string,
): Promise<Buffer> {
  blobMember(d, blobs, src);
  const bytes = await read(`blobs/${d.digest.replace(":", "/")}`);
  if (digestOf(bytes, d.digest.startsWith("sha512:") ? "sha512" : "sha256") !== d.digest) {
    throw new OciError("DIGEST_MISMATCH", "archive file does not match its digest", {
      where: `${src}:${d.digest}`,
    });
  }
  return bytes;
}

/** hasContent tells whether a manifest and all its non-foreign blobs are in the archive. */
function hasContent(d: Descriptor, blobs: Map<string, BlobLocation>): boolean {
  return blobs.has(d.digest);
}

async function readOci(
  src: string,
  read: ReadMember,
  blobs: Map<string, BlobLocation>,
  members: Map<string, TarMember>,
): Promise<{ format: "oci"; images: ArchiveImage[] }> {
  const indexBytes = await read("index.json");
  const index = located(`${src}:index.json`, () => parseManifestOrIndex(indexBytes, MediaType.OciIndex));
  if (index.kind !== "index")
    throw new OciError("INVALID_ARCHIVE", "index.json is not an image index", { where: src });
  const byDigest = new Map<string, ArchiveImage>();
  const visit = async (descs: readonly Descriptor[], depth: number, inherited: string[]): Promise<void> => {
    if (depth > 4) throw new OciError("INVALID_ARCHIVE", "image indexes nest too deeply", { where: src });
    for (const d of descs) {
      const names = [...inherited];
      const full = d.annotations?.["io.containerd.image.name"];
      const ref = d.annotations?.["org.opencontainers.image.ref.name"];
      if (full) names.push(fullName(full));
      else if (ref) names.push(ref);
      if (isIndexMediaType(d.mediaType)) {
        const bytes = await readVerified(d, read, blobs, src);
        const r = located(member(src, d), () => parseManifestOrIndex(bytes, d.mediaType));
        if (r.kind === "index") await visit(r.index.manifests, depth + 1, names);
      } else if (isManifestMediaType(d.mediaType)) {
        if (d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") continue;
        // A multi-platform index saved by docker lists platforms whose content was not saved: skip those.
        if (depth > 0 && !hasContent(d, blobs)) continue;
        const seen = byDigest.get(d.digest);
        if (seen) {
          for (const n of names) if (!seen.names.includes(n)) seen.names.push(n);
          continue;
        }
        const manifestBytes = await readVerified(d, read, blobs, src);
        const manifest = located(member(src, d), () => parseManifest(manifestBytes, d.mediaType));
        const config = await readVerified(manifest.config, read, blobs, src);
        located(member(src, manifest.config), () => parseImageConfig(config));
        for (const l of manifest.layers) if (!l.urls?.length) blobMember(l, blobs, src);
        byDigest.set(d.digest, {
          names,
          manifest,
          manifestBytes,
          manifestDigest: d.digest,
          config,
          ...(d.platform ? { platform: d.platform } : {}),
        });
      }
    }
  };
  await visit(index.index.manifests, 0, []);
  // Docker 25+ archives carry manifest.json too: add its RepoTags by config digest.
  if (members.has("manifest.json")) {
    for (const e of parseDockerManifest(await read("manifest.json"), src)) {
      const cfg = digestFromBlobPath(e.Config);
      for (const img of byDigest.values()) {
        if (cfg && img.manifest.config.digest === cfg) {
          for (const t of (e.RepoTags ?? []).map(fullName)) if (!img.names.includes(t)) img.names.push(t);
        }
      }
    }
  }
  return { format: "oci", images: [...byDigest.values()] };
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

function parseDockerManifest(bytes: Buffer, src: string): DockerManifestEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString("utf8"));
  } catch (cause) {
    throw new OciError("INVALID_JSON", "manifest.json is not valid JSON", { where: src, cause });
  }
  if (!Array.isArray(v))
    throw new OciError("INVALID_ARCHIVE", "manifest.json must be an array", { where: src });
  return v.map((e, i) => {
    const where = `${src}:manifest.json[${i}]`;
    const ok =
      e !== null &&
      typeof e === "object" &&
      typeof e.Config === "string" &&
      Array.isArray(e.Layers) &&
      e.Layers.every((l: unknown) => typeof l === "string") &&
      (e.RepoTags == null ||
        (Array.isArray(e.RepoTags) && e.RepoTags.every((t: unknown) => typeof t === "string")));
    if (!ok)
      throw new OciError(
        "INVALID_ARCHIVE",
        "entry needs Config (string), Layers (strings), RepoTags (strings)",
        { where },
      );
    for (const p of [e.Config, ...e.Layers]) {
      if (normalizeMemberName(p) === undefined) {
        throw new OciError("INVALID_ARCHIVE", `path ${JSON.stringify(p)} points outside the archive`, {
          where,
        });
      }
    }
    return e as DockerManifestEntry;
  });
}

function digestFromBlobPath(p: string): Digest | undefined {
  const m = /^(?:blobs\/(sha256|sha512)\/)?([0-9a-f]{64,128})(?:\.json)?$/.exec(normalizeMemberName(p) ?? "");
  if (!m) return undefined;
  const d = `${m[1] ?? "sha256"}:${m[2]}`;
  return isDigest(d) ? (d as Digest) : undefined;
}

async function hashMember(path: string, m: TarMember): Promise<{ digest: Digest; gzip: boolean }> {
  const h = createHash("sha256");
  let first: Buffer | undefined;
  if (m.size > 0) {
    for await (const c of createReadStream(path, { start: m.offset, end: m.offset + m.size - 1 })) {
      first ??= c as Buffer;
      h.update(c as Buffer);
    }
  }
  return { digest: `sha256:${h.digest("hex")}` as Digest, gzip: first?.[0] === 0x1f && first[1] === 0x8b };
}

async function readDocker(
  src: string,
  read: ReadMember,
  blobs: Map<string, BlobLocation>,
  members: Map<string, TarMember>,
  path: string,
): Promise<{ format: "docker"; images: ArchiveImage[] }> {
  if (!members.has("manifest.json")) {
    throw new OciError(
      "INVALID_ARCHIVE",
      "neither index.json nor manifest.json found: not an image archive",
      { where: src },
    );
  }
  const images: ArchiveImage[] = [];
  for (const [i, e] of parseDockerManifest(await read("manifest.json"), src).entries()) {
    const where = `${src}:manifest.json[${i}]`;
    const config = await read(normalizeMemberName(e.Config)!);
    const configDigest = digestOf(config);
    const named = digestFromBlobPath(e.Config);
    if (named && named !== configDigest)
      throw new OciError("DIGEST_MISMATCH", `config hashes to ${configDigest}`, { where: e.Config });
    const diffIds = located(`${src}:${e.Config}`, () => parseImageConfig(config)).rootfs.diff_ids;
    if (diffIds.length !== e.Layers.length) {
      throw new OciError("INVALID_ARCHIVE", "config rootfs.diff_ids does not list one diffID per layer", {
        where,
      });
    }
    const layers: Descriptor[] = [];
    for (const [j, lp] of e.Layers.entries()) {
      const name = normalizeMemberName(lp)!;
      const m = members.get(name);
      if (!m) throw new OciError("INVALID_ARCHIVE", "layer file is missing", { where: `${src}:${lp}` });
      const { digest, gzip } = await hashMember(path, m);
      const diffId = parseDigest(diffIds[j], `${e.Config}:rootfs.diff_ids[${j}]`);
      if (!gzip && digest !== diffId) {
        throw new OciError("DIGEST_MISMATCH", `layer hashes to ${digest}, config diff_id is ${diffId}`, {
          where: `${src}:${lp}`,
        });
      }
      blobs.set(digest, { ...m, digest });
      layers.push({ mediaType: gzip ? MediaType.OciLayerGzip : MediaType.OciLayer, digest, size: m.size });
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
      layers,
    };
    const manifestBytes = canonicalJson(manifest);
    if (!blobs.has(configDigest)) {
      const cm = members.get(normalizeMemberName(e.Config)!)!;
      blobs.set(configDigest, { ...cm, digest: configDigest });
    }
    images.push({
      names: [...(e.RepoTags ?? [])],
      manifest,
      manifestBytes,
      manifestDigest: digestOf(manifestBytes),
      config,
    });
  }
  return { format: "docker", images };
}
