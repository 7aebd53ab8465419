import { canonicalJson } from "../canonical-json.js";
import { parseImageConfig } from "../config.js";
import { digestOf } from "../digest.js";
import { OciError } from "../errors.js";
import { parseManifest } from "../manifest.js";
import { layerCompression, MediaType } from "../media-types.js";
import { hostPlatform } from "../platform.js";
import type { ContainerConfig, Descriptor, HistoryEntry, ImageConfig, Platform } from "../types.js";
import type { Image, Layer } from "./image.js";
import { epochFromEnv } from "./layers.js";

/** Addendum is a layer to append with what goes beside it, as go-containerregistry's mutate.Addendum. */
export interface Addendum {
  readonly layer: Layer;
  /** history is the layer's config history entry (default: created now or at SOURCE_DATE_EPOCH, by `tsbuild append`). */
  readonly history?: HistoryEntry;
  /** annotations go on the layer's manifest descriptor. */
  readonly annotations?: Readonly<Record<string, string>>;
}

type Json = Record<string, unknown>;

/**
 * append is go-containerregistry's mutate.Append (crane append, ko, jib):
 * a new image that is `image` with `layers` on top — their diffIDs and a
 * history entry each added to the config, their descriptors to the manifest
 * (in the manifest's own family: a Docker manifest gets Docker layer media
 * types). Nothing is read: the result's layers are the base's and the new
 * ones, read only when a sink writes them (copyImage to storeSink,
 * layoutSink, archiveSink, registry-client's registrySink).
 */
export function append(image: Image, ...layers: readonly (Layer | Addendum)[]): Image {
  const adds = layers.map((l): Addendum => ("layer" in l ? l : { layer: l }));
  const docker = isDocker(image);
  const created = adds.some((a) => a.history === undefined) ? defaultCreated() : "";
  const config = configJson(image);
  const rootfs = config.rootfs as Json;
  rootfs.diff_ids = [...(rootfs.diff_ids as string[]), ...adds.map((a) => a.layer.diffId)];
  config.history = [
    ...((config.history as HistoryEntry[] | undefined) ?? []),
    ...adds.map((a) => a.history ?? { created, created_by: "tsbuild append" }),
  ];
  const newLayers = adds.map((a) => inFamily(a.layer, docker));
  const descriptors: Descriptor[] = newLayers.map((l, i) => ({
    mediaType: l.mediaType,
    digest: l.digest,
    size: l.size,
    ...(adds[i]!.annotations && { annotations: adds[i]!.annotations }),
  }));
  const manifest = manifestJson(image);
  manifest.layers = [...(manifest.layers as Descriptor[]), ...descriptors];
  return rebuilt(image, manifest, config, [...image.layers, ...newLayers]);
}

/** ConfigChange is what {@link mutateConfig} changes: runtime config fields, or a function of the whole config. */
export type ConfigChange =
  | { readonly [K in keyof ContainerConfig]?: ContainerConfig[K] | undefined }
  | ((config: ImageConfig) => ImageConfig);

/**
 * mutateConfig is go-containerregistry's mutate.Config/ConfigFile: a new
 * image whose config is changed and everything else kept (layers unread).
 * Given fields (Entrypoint, Cmd, Env, Labels, WorkingDir, User,
 * ExposedPorts…) replace those of the runtime config and a field given as
 * `undefined` is removed; a function gets a copy of the whole config and
 * returns the new one, which must keep the layers' diff_ids. Members of the
 * config this model does not know are kept.
 */
export function mutateConfig(image: Image, change: ConfigChange): Image {
  const config = configJson(image);
  let next: Json;
  if (typeof change === "function") {
    next = change(structuredClone(config) as unknown as ImageConfig) as unknown as Json;
    const before = image.config.rootfs.diff_ids;
    const after = (next?.rootfs as Json | undefined)?.diff_ids as readonly string[] | undefined;
    if (!after || after.length !== before.length || after.some((d, i) => d !== before[i])) {
      throw new OciError(
        "INVALID_CONFIG",
        "mutateConfig must not change rootfs.diff_ids (append adds layers)",
      );
    }
  } else {
    const runtime = { ...((config.config as Json | undefined) ?? {}) };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete runtime[k];
      else runtime[k] = v;
    }
    next = { ...config, config: runtime };
  }
  return rebuilt(image, manifestJson(image), next, image.layers);
}

/** EmptyImageOptions describe the image {@link emptyImage} makes. */
export interface EmptyImageOptions {
  /** platform of the config (default the host's). */
  readonly platform?: Platform;
  /** docker: Docker schema2 media types instead of OCI. */
  readonly docker?: boolean;
}

/** emptyImage is `FROM scratch` as an Image (go-containerregistry's empty.Image): no layers, a config for a platform. */
export function emptyImage(options: EmptyImageOptions = {}): Image {
  const p = options.platform ?? hostPlatform();
  const config: ImageConfig = {
    architecture: p.architecture,
    os: p.os,
    ...(p.variant !== undefined && { variant: p.variant }),
    ...(p["os.version"] !== undefined && { "os.version": p["os.version"] }),
    config: {},
    rootfs: { type: "layers", diff_ids: [] },
  };
  const rawConfig = canonicalJson(config);
  const manifest = {
    schemaVersion: 2,
    mediaType: options.docker ? MediaType.DockerManifest : MediaType.OciManifest,
    config: {
      mediaType: options.docker ? MediaType.DockerConfig : MediaType.OciConfig,
      digest: digestOf(rawConfig),
      size: rawConfig.length,
    },
    layers: [],
  };
  const rawManifest = canonicalJson(manifest);
  return {
    digest: digestOf(rawManifest),
    mediaType: manifest.mediaType,
    manifest: parseManifest(rawManifest),
    rawManifest,
    configDigest: manifest.config.digest,
    config: parseImageConfig(rawConfig),
    rawConfig,
    layers: [],
  };
}

function isDocker(image: Image): boolean {
  return image.mediaType === MediaType.DockerManifest;
}

/** inFamily gives a layer the media type of its compression in the manifest's family (the bytes are the same). */
function inFamily(layer: Layer, docker: boolean): Layer {
  const compression = layerCompression(layer.mediaType);
  let mediaType = layer.mediaType;
  if (compression === "gzip" && !mediaType.includes("foreign") && !mediaType.includes("nondistributable"))
    mediaType = docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip;
  else if (compression === "none" && !mediaType.includes("nondistributable"))
    mediaType = docker ? MediaType.DockerLayer : MediaType.OciLayer;
  else if (docker && compression === "zstd") {
    throw new OciError("UNSUPPORTED_MEDIA_TYPE", "a Docker schema2 manifest cannot hold a zstd layer", {
      where: layer.digest,
    });
  }
  if (mediaType === layer.mediaType) return layer;
  return {
    digest: layer.digest,
    get diffId() {
      return layer.diffId;
    },
    size: layer.size,
    mediaType,
    ...(layer.source && { source: layer.source }),
    compressed: (o) => layer.compressed(o),
    uncompressed: (o) => layer.uncompressed(o),
  };
}

/** defaultCreated is SOURCE_DATE_EPOCH as RFC 3339 when set (reproducible), else now. */
function defaultCreated(): string {
  const epoch = epochFromEnv();
  const ms = epoch !== undefined ? epoch * 1000 : Date.now();
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** configJson is the image's config as plain JSON, with the members the typed model drops kept. */
function configJson(image: Image): Json {
  return JSON.parse(image.rawConfig.toString("utf8")) as Json;
}

function manifestJson(image: Image): Json {
  return JSON.parse(image.rawManifest.toString("utf8")) as Json;
}

/** rebuilt is the image with a new manifest and config (canonical JSON, checked by the parsers) over `layers`. */
function rebuilt(image: Image, manifest: Json, config: Json, layers: readonly Layer[]): Image {
  const rawConfig = canonicalJson(config);
  const parsedConfig = parseImageConfig(rawConfig);
  const configDesc = manifest.config as Json;
  manifest.config = { ...configDesc, digest: digestOf(rawConfig), size: rawConfig.length };
  const rawManifest = canonicalJson(manifest);
  const parsed = parseManifest(rawManifest, image.mediaType);
  if (parsedConfig.rootfs.diff_ids.length !== layers.length) {
    throw new OciError(
      "INVALID_CONFIG",
      `the image has ${layers.length} layers but its config ${parsedConfig.rootfs.diff_ids.length} diff_ids`,
    );
  }
  return {
    digest: digestOf(rawManifest),
    mediaType: image.mediaType,
    manifest: parsed,
    rawManifest,
    configDigest: parsed.config.digest,
    config: parsedConfig,
    rawConfig,
    layers,
  };
}
