import {
  createLayer,
  type Descriptor,
  type Digest,
  hostPlatform,
  type ImageConfig,
  type ImageStore,
  type LayerEntry,
  type Manifest,
  MediaType,
  type Platform,
  type StoredImage,
} from "@tsbuild/oci";

/** TestImageOptions describes an image made from explicit layer entries. */
export interface TestImageOptions {
  /** layers, bottom first; each is a list of tar entries. */
  readonly layers: readonly LayerEntry[][];
  /** base: an image in the store whose layers come first (as FROM would). */
  readonly base?: StoredImage;
  readonly names?: readonly string[];
  /** docker: write a Docker schema2 manifest instead of OCI. */
  readonly docker?: boolean;
  readonly cmd?: readonly string[];
  /** platform the config claims (default: the host's). */
  readonly platform?: Platform;
}

/**
 * makeTestImage writes gzip layers, a config and a manifest into `store` and
 * names the image, so registry tests have a multi-layer image without a
 * build. Layers are deterministic: the same entries give the same digests.
 */
export async function makeTestImage(store: ImageStore, options: TestImageOptions): Promise<StoredImage> {
  const layerMediaType = options.docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip;
  const layers: Descriptor[] = [...(options.base?.manifest.layers ?? [])].map((l) => ({
    mediaType: layerMediaType,
    digest: l.digest,
    size: l.size,
  }));
  const diffIds: Digest[] = [...(options.base?.config.rootfs.diff_ids ?? [])];
  for (const entries of options.layers) {
    const { stream, result } = createLayer({ entries }, { sourceDateEpoch: 0 });
    await store.writeBlob(stream);
    const r = await result;
    layers.push({ mediaType: layerMediaType, digest: r.digest, size: r.size });
    diffIds.push(r.diffId);
  }
  const platform = options.platform ?? hostPlatform();
  const config: ImageConfig = {
    created: "2026-01-01T00:00:00Z",
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: [...(options.cmd ?? ["sh"])],
    },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: "2026-01-01T00:00:00Z", created_by: `layer ${i}` })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc = await store.writeBlob(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: options.docker ? MediaType.DockerManifest : MediaType.OciManifest,
    config: {
      mediaType: options.docker ? MediaType.DockerConfig : MediaType.OciConfig,
      digest: configDesc.digest,
      size: configDesc.size,
    },
    layers,
  };
  return store.addImage({ manifest, names: options.names ?? [] });
}

/** fileLayer is a one-directory layer holding `files` (path → content). */
export function fileLayer(dir: string, files: Record<string, string | Uint8Array>): LayerEntry[] {
  return [
    { path: dir, type: "dir", mode: 0o755 },
    ...Object.entries(files).map(([name, content]) => ({
      path: `${dir}/${name}`,
      type: "file" as const,
      mode: 0o644,
      content,
    })),
  ];
}
