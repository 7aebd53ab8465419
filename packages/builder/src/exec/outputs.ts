import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  applyLayer,
  builtImage,
  copyImage,
  createLayer,
  type Digest,
  formatPlatform,
  type ImageStore,
  type Index,
  layoutSink,
  type Manifest,
  MediaType,
  normalizePlatform,
  OciLayout,
  parseReference,
  writeArchive,
} from "@tsbuild/oci";
import type { BuiltIndex, StagedImage } from "./types.js";

/**
 * BuildOutput is where a build's image goes, as docker buildx's exporters: `image` is the local store
 * (named by the build's tags; `push` also sends it to their registries), `docker` and `oci-archive` an
 * archive file that `docker load` reads, `oci` an OCI layout directory, `local` and `tar` the root
 * filesystem as a directory or a tar file.
 */
export type BuildOutput =
  | { type: "image"; push?: boolean }
  | { type: "oci" | "oci-archive" | "docker" | "tar" | "local"; dest: string };

const OCI_TYPES: Record<string, string> = {
  [MediaType.DockerConfig]: MediaType.OciConfig,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerLayer]: MediaType.OciLayer,
};

/** ociManifest is the same image (same blobs) described with OCI media types. */
function ociManifest(m: Manifest): Manifest {
  const t = (x: string) => OCI_TYPES[x] ?? x;
  return {
    ...m,
    mediaType: MediaType.OciManifest,
    config: { ...m.config, mediaType: t(m.config.mediaType) },
    layers: m.layers.map((l) => ({ ...l, mediaType: t(l.mediaType) })),
  } as Manifest;
}

/** outputText is how progress names an output's step, as BuildKit's exporters do. */
export function outputText(out: Exclude<BuildOutput, { type: "image" }>): string {
  if (out.type === "local") return `copying files to ${out.dest}`;
  if (out.type === "oci") return `exporting to oci image layout ${out.dest}`;
  return `exporting to ${out.type === "tar" ? "tar" : `${out.type} image`} ${out.dest}`;
}

/** exportTo writes a built image (its blobs in the store) to a layout, an archive, or its root filesystem. */
export async function exportTo(
  store: ImageStore,
  image: StagedImage,
  names: readonly string[],
  out: Exclude<BuildOutput, { type: "image" }>,
  signal?: AbortSignal,
): Promise<void> {
  const configBytes = await store.layout.readBlob(image.configDigest);
  const dest = resolve(out.dest);
  const withSignal = signal ? { signal } : {};
  // A lazy base layer is fetched (verified) from where the store recorded it, when an output needs it.
  const sizes = new Map(image.manifest.layers.map((l) => [l.digest as string, l.size]));
  const open = (d: Digest) => store.openBlob({ digest: d, size: sizes.get(d) ?? -1 }, withSignal);
  if (out.type === "docker" || out.type === "oci-archive") {
    const built = builtImage(store, { rawManifest: image.manifestBytes, rawConfig: configBytes });
    await writeArchive(dest, [{ image: built, names: [...names] }], withSignal);
    return;
  }
  if (out.type === "oci") {
    // An OCI layout holds OCI media types (as BuildKit's oci exporter writes them; skopeo reads nothing else).
    const oci = builtImage(store, {
      rawManifest: Buffer.from(JSON.stringify(ociManifest(image.manifest), null, 3)),
      rawConfig: configBytes,
    });
    const tag = names.length > 0 ? (parseReference(names[0]!).tag ?? "latest") : undefined;
    await copyImage(oci, layoutSink(dest, tag !== undefined ? { name: tag } : {}), withSignal);
    return;
  }
  // local / tar: the root filesystem the layers make.
  const dir = out.type === "local" ? dest : `${dest}.rootfs-${process.pid}`;
  await mkdir(dir, { recursive: true });
  try {
    for (const l of image.manifest.layers) await applyLayer(await open(l.digest), dir, withSignal);
    if (out.type === "tar") {
      const made = createLayer({ dir }, { compression: "none", ...withSignal });
      await pipeline(made.stream, createWriteStream(dest));
      await made.result;
    }
  } finally {
    if (out.type === "tar") await rm(dir, { recursive: true, force: true });
  }
}

/**
 * exportIndexTo writes a multi-platform build: `oci` as one OCI index (its platforms' manifests in OCI
 * media types) named by the first tag, `oci-archive` as that layout in a tar file, `local` as one
 * directory per platform (`linux_arm64/`), as BuildKit's exporters do. The docker and tar exporters
 * take one image only (the build refuses them, as BuildKit's docker exporter does).
 */
export async function exportIndexTo(
  store: ImageStore,
  index: BuiltIndex,
  names: readonly string[],
  out: Exclude<BuildOutput, { type: "image" }>,
  signal?: AbortSignal,
): Promise<void> {
  const dest = resolve(out.dest);
  if (out.type === "local") {
    for (const image of index.images) {
      const dir = formatPlatform(normalizePlatform(image.platform)).replaceAll("/", "_");
      await exportTo(store, image, names, { type: "local", dest: `${dest}/${dir}` }, signal);
    }
    return;
  }
  if (out.type === "oci-archive") {
    // The same OCI layout, as one tar file (written next to it, then renamed into place).
    const dir = `${dest}.layout-${process.pid}`;
    const tmp = `${dest}.tmp-${process.pid}`;
    try {
      await exportIndexTo(store, index, names, { type: "oci", dest: dir }, signal);
      const made = createLayer({ dir }, { compression: "none", ...(signal ? { signal } : {}) });
      await pipeline(made.stream, createWriteStream(tmp));
      await made.result;
      await rename(tmp, dest);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(tmp, { force: true });
    }
    return;
  }
  if (out.type !== "oci") throw new Error(`internal: the ${out.type} exporter takes one image`);
  const withSignal = signal ? { signal } : {};
  const manifests = [];
  for (const image of index.images) {
    const raw = Buffer.from(JSON.stringify(ociManifest(image.manifest), null, 3));
    const oci = builtImage(store, {
      rawManifest: raw,
      rawConfig: await store.layout.readBlob(image.configDigest),
    });
    // Unnamed: the platform's manifest is reachable through the index only.
    const desc = await copyImage(oci, layoutSink(dest), withSignal);
    const p = normalizePlatform(image.platform);
    manifests.push({
      ...desc,
      platform: { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) },
    });
  }
  const layout = await OciLayout.open(dest, { create: true });
  const ociIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests } as Index;
  const bytes = Buffer.from(JSON.stringify(ociIndex, null, 3));
  const written = await layout.writeBlob(bytes);
  const tag = names.length > 0 ? (parseReference(names[0]!).tag ?? "latest") : undefined;
  const top = await layout.readIndex();
  const platformDigests = new Set(manifests.map((m) => m.digest));
  const kept = top.manifests.filter(
    (m) =>
      !platformDigests.has(m.digest) &&
      !(tag && m.annotations?.["org.opencontainers.image.ref.name"] === tag) &&
      m.digest !== written.digest,
  );
  await layout.writeIndex({
    ...top,
    manifests: [
      ...kept,
      {
        mediaType: MediaType.OciIndex,
        digest: written.digest,
        size: written.size,
        ...(tag ? { annotations: { "org.opencontainers.image.ref.name": tag } } : {}),
      },
    ],
  });
}
