import type { Digest } from "./digest.js";

/** Platform as in the OCI image index (`os`, `architecture`, optional `variant`). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly "os.version"?: string;
  readonly "os.features"?: readonly string[];
}

/** Descriptor points at content by digest and size. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly artifactType?: string;
  /** data is the content itself, base64-encoded, for small blobs (OCI image-spec 1.1). */
  readonly data?: string;
}

/** Manifest is an OCI image manifest or a Docker schema2 manifest (same shape). */
export interface Manifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Index is an OCI image index or a Docker manifest list. */
export interface Index {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface HealthConfig {
  readonly Test?: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/** ContainerConfig is the `config` member of an image config (Docker's field names, which OCI adopted). */
export interface ContainerConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly ArgsEscaped?: boolean;
  readonly Healthcheck?: HealthConfig;
  readonly OnBuild?: readonly string[] | null;
  readonly Shell?: readonly string[];
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** ImageConfig is the image configuration blob. */
export interface ImageConfig {
  readonly created?: string;
  readonly author?: string;
  /** comment is docker's image comment (`docker import -m`, `docker commit -m`; inspect's Comment). */
  readonly comment?: string;
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly "os.version"?: string;
  readonly "os.features"?: readonly string[];
  readonly config?: ContainerConfig;
  readonly rootfs: { readonly type: "layers"; readonly diff_ids: readonly Digest[] };
  readonly history?: readonly HistoryEntry[];
}
