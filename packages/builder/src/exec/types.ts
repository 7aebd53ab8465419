import type { Digest, ImageConfig, ImageStore, Manifest, Platform, StoredImage } from "@tsbuild/oci";
import type { RegistryClient } from "@tsbuild/registry-client";

/** BuildEvent is what a build reports as it goes: the CLI renders them, pipelines may log them. */
export type BuildEvent =
  | { type: "base"; stage: string; ref: string; source: "store" | "registry"; digest: Digest }
  | { type: "step"; id: number; stage: string; index: number; total: number; text: string }
  | { type: "cached"; id: number }
  | { type: "done"; id: number; seconds: number; layer?: Digest }
  | { type: "log"; id: number; stream: "stdout" | "stderr"; data: Buffer }
  | { type: "warning"; message: string };

/** BuildOptions are `docker build`'s inputs, typed. */
export interface BuildOptions {
  store: ImageStore;
  /** client pulls base images the store does not have (none: the store must have them). */
  client?: RegistryClient;
  dockerfile: Uint8Array | string;
  /** dockerfileName is what messages call the file (default "Dockerfile"). */
  dockerfileName?: string;
  /** contextDir is the build context (none: a build that must not read one). */
  contextDir?: string;
  /** dockerfilePath locates `<Dockerfile>.dockerignore` (default contextDir/Dockerfile). */
  dockerfilePath?: string;
  buildArgs?: Readonly<Record<string, string>>;
  target?: string;
  platform?: Platform;
  /** noCache runs every step; noCacheFilter only the named stages. */
  noCache?: boolean;
  noCacheFilter?: readonly string[];
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
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
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
  /** steps and cached count what ran. */
  steps: number;
  cached: number;
  warnings: string[];
}

/** BaseImageInfo is a resolved external base. */
export interface ResolvedBase {
  image: StoredImage;
  source: "store" | "registry";
}
