import type { Archive, ArchiveImage } from "../archive/read.js";
import { canonicalJson } from "../canonical-json.js";
import { digestOf } from "../digest.js";
import { OciError } from "../errors.js";
import { OciLayout } from "../layout/layout.js";
import { isManifestMediaType, MediaType } from "../media-types.js";
import { normalizeName } from "../store/resolve.js";
import type { ImageStore } from "../store/store.js";
import type { Descriptor, ImageConfig, Manifest } from "../types.js";
import { type BlobLocation, type Image, imageFromParts } from "./image.js";

const REF_NAME = "org.opencontainers.image.ref.name";

/**
 * storeImage is an image of the local store by name or id. A layer the store
 * holds only as a remote record (a lazy base) has that record as its
 * `source`, and is fetched, verified, when read (ImageStore.openBlob).
 */
export async function storeImage(store: ImageStore, nameOrId: string): Promise<Image> {
  const img = await store.resolve(nameOrId);
  const [rawManifest, rawConfig] = await Promise.all([
    store.layout.readBlob(img.manifestDigest),
    store.layout.readBlob(img.manifest.config.digest),
  ]);
  const sources = new Map<string, BlobLocation>();
  for (const l of img.manifest.layers) {
    if (await store.layout.hasBlob(l.digest)) continue;
    const r = await store.remoteBlob(l.digest);
    if (r) sources.set(l.digest, { registry: r.registry, repository: r.repository });
  }
  return builtImage(store, { rawManifest, rawConfig, mediaType: img.descriptor.mediaType, sources });
}

/**
 * builtImage is an image whose manifest and config are in hand (a build's
 * result) and whose blobs are in the store, fetched on demand when remote.
 */
export function builtImage(
  store: ImageStore,
  parts: {
    rawManifest: Uint8Array;
    rawConfig: Uint8Array;
    mediaType?: string;
    sources?: ReadonlyMap<string, BlobLocation>;
  },
): Image {
  return imageFromParts({
    rawManifest: parts.rawManifest,
    rawConfig: parts.rawConfig,
    ...(parts.mediaType ? { mediaType: parts.mediaType } : {}),
    open: (desc, options) => store.openBlob(desc, options),
    sourceOf: (desc) => parts.sources?.get(desc.digest),
    where: store.root,
  });
}

/**
 * layoutImage is an image of an OCI layout: the manifest named `name` in
 * index.json (`org.opencontainers.image.ref.name`, as given or normalised),
 * or the only image manifest when no name is given.
 */
export async function layoutImage(layoutOrDir: OciLayout | string, name?: string): Promise<Image> {
  const layout = typeof layoutOrDir === "string" ? await OciLayout.open(layoutOrDir) : layoutOrDir;
  const manifests = (await layout.readIndex()).manifests.filter((m) => isManifestMediaType(m.mediaType));
  let desc: Descriptor | undefined;
  if (name === undefined) {
    if (manifests.length !== 1) {
      throw new OciError(
        "IMAGE_NOT_FOUND",
        `the layout holds ${manifests.length} image manifests: name one`,
        { where: layout.root },
      );
    }
    desc = manifests[0];
  } else {
    const full = (() => {
      try {
        return normalizeName(name);
      } catch {
        return name;
      }
    })();
    desc = manifests.find((m) => m.annotations?.[REF_NAME] === name || m.annotations?.[REF_NAME] === full);
  }
  if (desc === undefined)
    throw new OciError("IMAGE_NOT_FOUND", `no image named ${name} in the layout`, { where: layout.root });
  const rawManifest = await layout.readBlob(desc.digest);
  const manifestConfig = imageConfigDescriptor(rawManifest);
  return imageFromParts({
    rawManifest,
    rawConfig: await layout.readBlob(manifestConfig),
    mediaType: desc.mediaType,
    open: (d) => layout.openBlob(d.digest),
    where: layout.root,
  });
}

function imageConfigDescriptor(raw: Buffer): string {
  const v = JSON.parse(raw.toString("utf8")) as { config?: { digest?: string } };
  if (typeof v.config?.digest !== "string")
    throw new OciError("INVALID_MANIFEST", "manifest has no config descriptor");
  return v.config.digest;
}

/** archiveImages are the images of an opened docker or OCI archive (readArchive), with their names. */
export function archiveImages(archive: Archive): { image: Image; names: string[] }[] {
  return archive.images.map((a: ArchiveImage) => ({
    names: a.names,
    image: imageFromParts({
      rawManifest: a.manifestBytes,
      rawConfig: a.config,
      open: (d) => archive.openBlob(d.digest),
      where: `archive image ${a.manifestDigest}`,
    }),
  }));
}

/** NewImageParts are an image's config (rootfs included) and its layers' descriptors, bottom first. */
export interface NewImageParts {
  readonly config: ImageConfig;
  readonly layers: readonly Descriptor[];
  /** docker: Docker schema2 media types instead of OCI. */
  readonly docker?: boolean;
}

/**
 * newImage is go-containerregistry's `mutate.Append(empty.Image, …)` with a
 * config: an image whose layer blobs are in the store, with its config and
 * manifest made here (canonical JSON), so verbs that make an image (import)
 * write no manifest by hand. Store it with `copyImage(img, storeSink(store))`.
 */
export function newImage(store: ImageStore, parts: NewImageParts): Image {
  const rawConfig = canonicalJson(parts.config);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: parts.docker ? MediaType.DockerManifest : MediaType.OciManifest,
    config: {
      mediaType: parts.docker ? MediaType.DockerConfig : MediaType.OciConfig,
      digest: digestOf(rawConfig),
      size: rawConfig.length,
    },
    layers: [...parts.layers],
  };
  return builtImage(store, { rawManifest: canonicalJson(manifest), rawConfig });
}
