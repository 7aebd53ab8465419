import type { Digest } from "../digest.js";
import { parseReference } from "../reference.js";
import type { ContainerConfig, Descriptor, HistoryEntry } from "../types.js";
import type { StoredImage } from "./store.js";

/** ImageRow is one line of `image ls`; a dangling image has no name, repository or tag (docker prints `<none>`). */
export interface ImageRow {
  readonly id: Digest;
  readonly manifestDigest: Digest;
  /** name is the full name (`docker.io/library/nginx:latest`). */
  readonly name: string | undefined;
  /** repository is the familiar repository (`nginx`, `localhost:5000/x`). */
  readonly repository: string | undefined;
  readonly tag: string | undefined;
  readonly created: string | undefined;
  readonly size: number;
}

/** HistoryRow is one line of `image history`, newest first. */
export interface HistoryRow {
  /** id is the image id of the image this step produced when known locally, else `<missing>` as docker prints. */
  readonly id: string;
  readonly created: string | undefined;
  readonly createdBy: string;
  /** size is the unpacked size of the layer this step made (as docker shows), 0 for an empty layer. */
  readonly size: number;
  readonly comment: string;
  readonly emptyLayer: boolean;
  readonly author: string | undefined;
}

/**
 * historyRows joins config.history with the manifest's layers (docker's rule:
 * non-empty entries take layers in order); `layerSizes` are the layers'
 * unpacked sizes, in manifest order.
 */
export function historyRows(
  img: StoredImage,
  ancestors: readonly StoredImage[],
  layerSizes: readonly number[],
): HistoryRow[] {
  let history: readonly HistoryEntry[] = img.config.history ?? [];
  if (history.length === 0) history = img.manifest.layers.map(() => ({}));
  const rows: HistoryRow[] = [];
  let li = 0;
  for (const h of history) {
    const empty = h.empty_layer === true;
    const layer = empty ? undefined : li++;
    rows.push({
      id: "<missing>",
      created: h.created,
      createdBy: h.created_by ?? "",
      size: layer === undefined ? 0 : (layerSizes[layer] ?? 0),
      comment: h.comment ?? "",
      emptyLayer: empty,
      author: h.author,
    });
  }
  const ids: (string | undefined)[] = rows.map(() => undefined);
  for (const a of ancestors) {
    const n = a.config.history?.length ?? 0;
    if (n > 0 && n <= rows.length) ids[n - 1] ??= a.id;
  }
  if (rows.length > 0) ids[rows.length - 1] = img.id;
  return rows.map((r, i) => ({ ...r, id: ids[i] ?? "<missing>" })).reverse();
}

/** InspectResult is the object `docker image inspect` prints for one image. */
export interface InspectResult {
  readonly Id: Digest;
  readonly RepoTags: string[];
  readonly RepoDigests: string[];
  readonly Parent: string;
  readonly Comment: string;
  readonly Created: string;
  readonly DockerVersion: string;
  readonly Author: string;
  readonly Config: ContainerConfig;
  readonly Architecture: string;
  readonly Variant?: string;
  readonly Os: string;
  readonly OsVersion?: string;
  readonly Size: number;
  readonly RootFS: { readonly Type: string; readonly Layers: readonly Digest[] };
  readonly Metadata: { readonly LastTagTime: string };
  readonly Descriptor: Descriptor;
}

/**
 * DOCKER_CONFIG lists docker's container.Config fields in its JSON order, with
 * the value docker prints when the image does not set one (undefined: the
 * field is `omitempty` and left out).
 */
const DOCKER_CONFIG: readonly [string, unknown][] = [
  ["Hostname", ""],
  ["Domainname", ""],
  ["User", ""],
  ["AttachStdin", false],
  ["AttachStdout", false],
  ["AttachStderr", false],
  ["ExposedPorts", undefined],
  ["Tty", false],
  ["OpenStdin", false],
  ["StdinOnce", false],
  ["Env", null],
  ["Cmd", null],
  ["Healthcheck", undefined],
  ["ArgsEscaped", undefined],
  ["Image", ""],
  ["Volumes", null],
  ["WorkingDir", ""],
  ["Entrypoint", null],
  ["NetworkDisabled", undefined],
  ["MacAddress", undefined],
  ["OnBuild", null],
  ["Labels", null],
  ["StopSignal", undefined],
  ["StopTimeout", undefined],
  ["Shell", undefined],
];

/** dockerConfig shapes an image's config as `docker image inspect` prints Config: every field, in docker's order. */
export function dockerConfig(config: ContainerConfig | undefined): ContainerConfig {
  const given = (config ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of DOCKER_CONFIG) {
    const value = given[key] ?? fallback;
    if (value !== undefined) out[key] = value;
  }
  for (const [key, value] of Object.entries(given)) if (!(key in out)) out[key] = value;
  return out as ContainerConfig;
}

/**
 * inspectResult builds docker's inspect object: familiar names, RepoDigests
 * for pulled/pushed images; `size` is the unpacked size (docker's Size).
 */
export function inspectResult(img: StoredImage, size: number): InspectResult {
  const refs = img.names.map((n) => parseReference(n));
  // A multi-platform image is held by its index's digest, and described by the index.
  const top = img.index ?? { ...img.descriptor, digest: img.manifestDigest };
  const repoDigests = img.repoDigests.map((r) => `${parseReference(r).familiarName}@${top.digest}`);
  const lastTag = [...img.tagTimes.values()].sort().at(-1);
  const c = img.config;
  return {
    Id: img.id,
    RepoTags: refs.map((r) => r.familiarString()),
    RepoDigests: repoDigests,
    Parent: img.parent ?? "",
    Comment: c.comment ?? "",
    Created: c.created ?? "",
    DockerVersion: "",
    Author: c.author ?? "",
    Config: dockerConfig(c.config),
    Architecture: c.architecture,
    ...(c.variant !== undefined && { Variant: c.variant }),
    Os: c.os,
    ...(c["os.version"] !== undefined && { OsVersion: c["os.version"] }),
    Size: size,
    RootFS: { Type: c.rootfs.type, Layers: [...c.rootfs.diff_ids] },
    Metadata: { LastTagTime: lastTag ?? "0001-01-01T00:00:00Z" },
    Descriptor: { mediaType: top.mediaType, digest: top.digest, size: top.size },
  };
}
