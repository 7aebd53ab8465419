import { randomBytes } from "node:crypto";
import { digestOf } from "../../digest.js";
import { MediaType } from "../../media-types.js";
import type { HistoryEntry, ImageConfig, Manifest } from "../../types.js";
import type { AddImageOptions, ImageStore, StoredImage } from "../store.js";

/** makeImage writes random layers and adds an image (with config history) to `store`. */
export async function makeImage(
  store: ImageStore,
  options: {
    names?: string[];
    layers?: (Buffer | string)[];
    history?: HistoryEntry[];
    parent?: string;
    created?: string;
    extra?: Partial<AddImageOptions>;
  } = {},
): Promise<StoredImage> {
  const layers = (options.layers ?? [randomBytes(64)]).map((l) =>
    typeof l === "string" ? Buffer.from(l) : l,
  );
  const descs = [];
  for (const l of layers) {
    const w = await store.writeBlob(l);
    descs.push({ mediaType: MediaType.OciLayerGzip, ...w });
  }
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    created: options.created ?? "2024-01-02T03:04:05Z",
    config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: layers.map((l) => digestOf(l)) },
    history:
      options.history ?? layers.map((_, i) => ({ created_by: `step ${i}`, created: "2024-01-02T03:04:05Z" })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digestOf(configBytes), size: configBytes.length },
    layers: descs,
  };
  return store.addImage({
    manifest,
    config: configBytes,
    ...(options.names && { names: options.names }),
    ...(options.parent && { parent: options.parent }),
    ...options.extra,
  });
}
