import type { Digest, ImageConfig, ImageStore, Manifest, Platform, StoredImage } from "@tsbuild/oci";
import type { RegistryClient } from "@tsbuild/registry-client";
import type { BuildOutput } from "./outputs.js";

/** BaseEvent says a stage's external base image (`FROM image`) was resolved, from the store or a registry. */
export interface BaseEvent {
  type: "base";
  /** stage is the stage's name (or its index as text when unnamed). */
  stage: string;
  /** ref is the image reference as the Dockerfile gives it, after expansion. */
  ref: string;
  /** source says where the image came from: the local store, or resolved in its registry. */
  source: "store" | "registry";
  /** digest is the base image's manifest digest. */
  digest: Digest;
}

/**
 * StepEvent says a step (a vertex, in BuildKit's words) started. Its `id` is unique in the build and
 * names the step in every later event about it (`cached`, `log`, `progress`, `done`). The steps that
 * write the outputs after the stages (`exporting to image`, `pushing NAME`) have `stage` "" and
 * `index` and `total` 0.
 */
export interface StepEvent {
  type: "step";
  id: number;
  /** stage is the stage's name (or its index as text when unnamed). */
  stage: string;
  /**
   * index and total place the step in its stage, 1-based, as BuildKit numbers vertices: FROM an image
   * is 1; ENV, LABEL and other config-only instructions are no step (ONBUILD triggers still count).
   */
  index: number;
  total: number;
  /** text is the instruction as docker prints it, e.g. `RUN apt-get update`. */
  text: string;
  /** name is the line BuildKit shows: `[stage-1 2/5] RUN make` (no stage name in a one-stage Dockerfile). */
  name: string;
}

/** CachedEvent says a started step was found in the build cache: it ran nothing and wrote nothing. */
export interface CachedEvent {
  type: "cached";
  id: number;
}

/** DoneEvent says a step finished, how long it took, and the layer it made (none when it changed no files). */
export interface DoneEvent {
  type: "done";
  id: number;
  /** seconds is the step's wall time. */
  seconds: number;
  /** layer is the digest of the compressed layer the step added, when it added one. */
  layer?: Digest;
}

/** LogEvent is a chunk of a running step's output (RUN's stdout or stderr), as it arrives. */
export interface LogEvent {
  type: "log";
  id: number;
  stream: "stdout" | "stderr";
  data: Buffer;
}

/** WarningEvent is a warning about the build as a whole (an unused build arg, a lint finding). */
export interface WarningEvent {
  type: "warning";
  message: string;
}

/**
 * ProgressEvent counts the bytes a step has moved so far: a lazy base layer downloaded, an `ADD <url>`
 * fetched, an image pushed. `current` only grows; `total` is there when every size is known, and grows
 * when the step starts another transfer (a second layer).
 */
export interface ProgressEvent {
  type: "progress";
  id: number;
  current: number;
  total?: number;
}

/** ImageEvent is the last event of a successful build: the image it built (also the handle's `result`). */
export interface ImageEvent {
  type: "image";
  image: BuiltImage;
}

/**
 * BuildEvent is what a build reports as it goes: the CLI renders them, pipelines may log them. Switch on
 * `type`; new members may be added, so keep a default branch.
 */
export type BuildEvent =
  | BaseEvent
  | StepEvent
  | CachedEvent
  | DoneEvent
  | LogEvent
  | WarningEvent
  | ProgressEvent
  | ImageEvent;

/**
 * CacheImport is one `--cache-from` source: a cache (or an image with inline records) in a registry, or
 * a cache in an OCI layout directory (`tag` picks its index entry, default "latest").
 */
export type CacheImport = { type: "registry"; ref: string } | { type: "local"; src: string; tag?: string };

/**
 * CacheExport is one `--cache-to` destination: `min` exports the final image's steps, `max` every
 * stage's; `inline` writes the final image's records into its config.
 */
export type CacheExport =
  | { type: "registry"; ref: string; mode?: "min" | "max" }
  | { type: "local"; dest: string; tag?: string; mode?: "min" | "max" }
  | { type: "inline" };

/** BuildOptions are `docker build`'s inputs (`tsbuild build`'s flags), typed. */
export interface BuildOptions {
  /** store holds base images, the build cache, and (by default) the built image. */
  store: ImageStore;
  /** client pulls base images the store does not have (none: the store must have them) and pushes. */
  client?: RegistryClient;
  /** dockerfile is the Dockerfile's text (default: read from dockerfilePath, else contextDir/Dockerfile). */
  dockerfile?: Uint8Array | string;
  /** dockerfileName is what messages call the file (default "Dockerfile"). */
  dockerfileName?: string;
  /** contextDir is the build context (none: a build that must not read one). */
  contextDir?: string;
  /** dockerfilePath locates `<Dockerfile>.dockerignore` (default contextDir/Dockerfile). */
  dockerfilePath?: string;
  buildArgs?: Readonly<Record<string, string>>;
  target?: string;
  /** platform is the target platform (default: the host's, from the running Node). */
  platform?: Platform;
  /**
   * platforms builds the image once per platform (`--platform linux/amd64,linux/arm64`) and writes
   * one multi-platform index of them to every output; `platform` is ignored then. Stages without RUN
   * need no emulation; RUN for a platform the host cannot execute needs a binfmt_misc emulator.
   */
  platforms?: readonly Platform[];
  /** noCache runs every step; noCacheFilter only the named stages. */
  noCache?: boolean;
  noCacheFilter?: readonly string[];
  /** labels are `build --label` values: added to the final image's config, over its LABELs. */
  labels?: Readonly<Record<string, string>>;
  /** pull re-resolves every base image in its registry even when the store has it. */
  pull?: boolean;
  /** sourceDateEpoch (else the SOURCE_DATE_EPOCH build arg) sets `created` and clamps mtimes. */
  sourceDateEpoch?: number;
  /** network is RUN's default network (`build --network`): the host's unless "none". */
  network?: "default" | "host" | "none";
  /** secrets are `build --secret` values by id (RUN --mount=type=secret); never in a layer, key or log. */
  secrets?: ReadonlyMap<string, Uint8Array>;
  /** ssh are agent sockets by id (`build --ssh`), for RUN --mount=type=ssh. */
  ssh?: ReadonlyMap<string, string>;
  /** allow lists entitlements (`security.insecure`, `network.host`). */
  allow?: readonly string[];
  /** runtime is the runc binary (default `runc` from PATH). */
  runtime?: string;
  /** cacheFrom are caches to answer steps from (after the store's own); cacheTo where to export records. */
  cacheFrom?: readonly CacheImport[];
  cacheTo?: readonly CacheExport[];
  /** tags name the image in the store (`-t`), and are where `push` sends it. */
  tags?: readonly string[];
  /** outputs are where the image goes (`-o`; absent or empty: the store only). */
  outputs?: readonly BuildOutput[];
  /** push sends the image to every tag's registry after storing it (`--push`); needs `client`. */
  push?: boolean;
  /** signal cancels the build: containers killed, mounts and temporary files removed, the store as before. */
  signal?: AbortSignal;
  /** onEvent sees every event as it happens, as iterating the build's handle does. */
  onEvent?: (event: BuildEvent) => void;
}

/** PushedImage is one name a build pushed: the registry holds the image as `name` and `name@digest`. */
export interface PushedImage {
  name: string;
  /** digest is the manifest's digest in the registry. */
  digest: Digest;
  /** size is the manifest's size in bytes. */
  size: number;
}

/** BuiltImage is the result: the image's manifest and config, written to the store's blobs (not named). */
export interface BuiltImage {
  manifest: Manifest;
  manifestBytes: Buffer;
  manifestDigest: Digest;
  config: ImageConfig;
  configDigest: Digest;
  /** parent is the base image's id when the final stage is on an image. */
  parent?: Digest;
  platform: Platform;
  /** steps counts the steps BuildKit shows (COPY, ADD, RUN, WORKDIR; not FROM, not config-only ones); cached those the cache answered. */
  steps: number;
  cached: number;
  warnings: string[];
  /** names are the tags the store holds the image under (normalised: `app:1` is `docker.io/library/app:1`). */
  names: string[];
  /** pushed lists what `push` sent, one per name. */
  pushed: PushedImage[];
  /**
   * index is the multi-platform image a build for several `platforms` made; the fields above are
   * then its first platform's image, and the names and pushes are the index's.
   */
  index?: BuiltIndex;
}

/** BuiltIndex is a multi-platform image: an index (OCI index, or Docker manifest list for Docker manifests). */
export interface BuiltIndex {
  mediaType: string;
  digest: Digest;
  bytes: Buffer;
  /** images are the platforms' images, in the order the build was asked for them. */
  images: StagedImage[];
}

/** StagedImage is the built image before its outputs are written. */
export type StagedImage = Omit<BuiltImage, "names" | "pushed" | "index">;

/** BaseImageInfo is a resolved external base. */
export interface ResolvedBase {
  image: StoredImage;
  source: "store" | "registry";
  /** seconds is how long the registry took to resolve it (pulled bases). */
  seconds?: number;
}
