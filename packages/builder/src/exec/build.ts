import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { BlobLease } from "@tsbuild/oci";
import {
  type Digest,
  type ImageStore,
  type Index,
  MediaType,
  normalizePlatform,
  type Platform,
  parseReference,
} from "@tsbuild/oci";
import { type PushProgressEvent, pushImage, pushIndex } from "@tsbuild/registry-client";
import { BuildError } from "../errors.js";
import { executeBuild } from "./engine.js";
import { EventQueue } from "./events.js";
import { type BuildOutput, exportIndexTo, exportTo, outputText } from "./outputs.js";
import type { BuildEvent, BuildOptions, BuiltImage, BuiltIndex, PushedImage, StagedImage } from "./types.js";

/**
 * BuildHandle is a running build: iterate it (`for await`) for its events as they happen, await
 * `result` for the image. The events end with an `image` event when the build succeeds; the loop
 * throws the build's error when it fails. Events are kept until read, so a loop started late misses
 * none; they can be read by one loop only.
 */
export interface BuildHandle extends AsyncIterable<BuildEvent> {
  /** result is the built image once every output is written (and pushed); it rejects when the build fails. */
  readonly result: Promise<BuiltImage>;
}

/**
 * build builds an image from a Dockerfile, as `tsbuild build` does (and `docker build`): it resolves the
 * base images (the store, else the registry), runs every step (cached steps write nothing), then writes
 * the outputs: by default the store, under `tags`; `push` also sends it to the tags' registries.
 *
 * Abort `signal` to cancel: running steps' containers are killed, their mounts and temporary files
 * removed, and the store is left as it was (no name added, no blob held).
 *
 * @example
 * ```ts
 * const store = await ImageStore.open({ root: "/tmp/store" });
 * const handle = build({ store, contextDir: ".", tags: ["app:1"] });
 * for await (const e of handle) if (e.type === "step") console.log(e.text);
 * console.log((await handle.result).configDigest);
 * ```
 */
export function build(options: BuildOptions): BuildHandle {
  const queue = new EventQueue();
  const emit = (e: BuildEvent) => {
    queue.push(e);
    options.onEvent?.(e);
  };
  const result = runBuild(options, emit).then(
    (image) => {
      queue.end();
      return image;
    },
    (err: unknown) => {
      queue.end(err, true);
      throw err;
    },
  );
  // A caller that only iterates the events gets the error there: the result's rejection is not unhandled.
  result.catch(() => {});
  return { result, [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator]() };
}

async function readDockerfile(options: BuildOptions): Promise<{ bytes: Uint8Array | string; name: string }> {
  if (options.dockerfile !== undefined) {
    return { bytes: options.dockerfile, name: options.dockerfileName ?? "Dockerfile" };
  }
  if (options.dockerfilePath === undefined && options.contextDir === undefined) {
    throw new BuildError(
      "INVALID_ARGUMENTS",
      "a build needs a Dockerfile: give dockerfile, dockerfilePath or contextDir",
    );
  }
  const path = resolve(options.dockerfilePath ?? join(options.contextDir!, "Dockerfile"));
  try {
    return { bytes: await readFile(path), name: options.dockerfileName ?? "Dockerfile" };
  } catch (err) {
    throw new BuildError("SOURCE_NOT_FOUND", `failed to read dockerfile ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function runBuild(options: BuildOptions, emit: (e: BuildEvent) => void): Promise<BuiltImage> {
  const { store, client, signal } = options;
  signal?.throwIfAborted();
  const names = (options.tags ?? []).map((t) => {
    try {
      return parseReference(t).toString();
    } catch (err) {
      throw new BuildError(
        "INVALID_ARGUMENTS",
        `invalid tag ${JSON.stringify(t)}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  });
  const outputs: readonly BuildOutput[] = options.outputs?.length ? options.outputs : [{ type: "image" }];
  const push = options.push === true || outputs.some((o) => o.type === "image" && o.push === true);
  if (push && names.length === 0) throw new BuildError("INVALID_ARGUMENTS", "push needs a name: give a tag");
  if (push && !client) throw new BuildError("INVALID_ARGUMENTS", "push needs a registry client");
  const dockerfile = await readDockerfile(options);
  const platforms: readonly (Platform | undefined)[] = options.platforms?.length
    ? options.platforms
    : [options.platform];
  if (platforms.length > 1) {
    const bad = outputs.find((o) => o.type === "docker" || o.type === "tar");
    if (bad) {
      throw new BuildError(
        "INVALID_ARGUMENTS",
        `the ${bad.type} exporter does not support multi-platform images: use type=oci, type=oci-archive, type=local, type=image or --push`,
      );
    }
  }
  let lastId = 0;
  const staged: (StagedImage & { lease: BlobLease; saving: Promise<void> })[] = [];
  const pushed: PushedImage[] = [];
  let index: BuiltIndex | undefined;
  try {
    for (const platform of platforms) {
      // Several platforms: one build each, their steps numbered on from the previous platform's and
      // named `[linux/arm64 stage-1 2/5]`, as BuildKit's progress names them.
      const offset = lastId;
      staged.push(
        await executeBuild({
          ...options,
          ...(platform ? { platform } : {}),
          labelPlatforms: platforms.length > 1,
          dockerfile: dockerfile.bytes,
          dockerfileName: dockerfile.name,
          onEvent: (e) => {
            const moved = offset === 0 ? e : renumber(e, offset);
            if ("id" in moved) lastId = Math.max(lastId, moved.id);
            emit(moved);
          },
        }),
      );
    }
    const images: StagedImage[] = staged.map(({ lease: _, saving: __, ...image }) => image);
    const image = images[0]!;
    if (images.length > 1) index = await writeIndex(store, images, staged[0]!.lease);
    // Every output after the stages is a step of its own, as BuildKit's exporters are.
    const step = async (text: string, fn: (id: number) => Promise<unknown>) => {
      const id = ++lastId;
      const started = Date.now();
      emit({ type: "step", id, stage: "", index: 0, total: 0, text, name: text });
      await fn(id);
      emit({ type: "done", id, seconds: (Date.now() - started) / 1000 });
    };
    if (push || outputs.some((o) => o.type === "image")) {
      // No parent, as BuildKit's exporters record none: docker's history then shows <missing> on the
      // base's rows and inspect an empty Parent, even when the base is a local image.
      await step("exporting to image", () =>
        index
          ? store.addIndex({ index: index.bytes, names })
          : store.addImage({ manifest: image.manifestBytes, names }),
      );
    }
    for (const out of outputs) {
      if (out.type === "image") continue;
      await step(outputText(out), () =>
        index ? exportIndexTo(store, index, names, out, signal) : exportTo(store, image, names, out, signal),
      );
    }
    if (push) {
      for (const name of names) {
        await step(`pushing ${name}`, async (id) => {
          const manifests = index ? index.images : [image];
          const sizes = new Map<Digest, number>();
          for (const m of manifests) {
            sizes.set(m.manifest.config.digest, m.manifest.config.size);
            for (const l of m.manifest.layers) sizes.set(l.digest, l.size);
          }
          const total = [...sizes.values()].reduce((a, b) => a + b, 0);
          const moved = new Map<Digest, number>();
          let last = -1;
          const pushOptions = {
            store,
            ...(signal ? { signal } : {}),
            onProgress: (p: PushProgressEvent) => {
              moved.set(p.digest, p.status === "pushing" ? p.current : p.status === "waiting" ? 0 : p.total);
              const current = [...moved.values()].reduce((a, b) => a + b, 0);
              if (current === last) return;
              last = current;
              emit({ type: "progress", id, current, total });
            },
          };
          const r = index
            ? await pushIndex(
                client!,
                { digest: index.digest, mediaType: index.mediaType },
                parseReference(name),
                pushOptions,
              )
            : await pushImage(client!, await store.resolve(name), parseReference(name), pushOptions);
          pushed.push({ name, digest: r.digest, size: r.size });
        });
      }
    }
  } finally {
    await Promise.all(staged.map((s) => s.saving));
    await Promise.all(staged.map((s) => s.lease.release()));
  }
  const { lease: _, saving: __, ...image } = staged[0]!;
  const final: BuiltImage = { ...image, names, pushed, ...(index ? { index } : {}) };
  emit({ type: "image", image: final });
  return final;
}

/** renumber moves a platform's events after the previous platforms'. */
function renumber(e: BuildEvent, offset: number): BuildEvent {
  return "id" in e ? { ...e, id: e.id + offset } : e;
}

/**
 * writeIndex writes the index of a multi-platform build into the store's blobs, under `lease`: a Docker
 * manifest list when every platform's manifest is Docker's (as BuildKit without oci-mediatypes), else an
 * OCI index; each entry carries its platform.
 */
async function writeIndex(
  store: ImageStore,
  images: readonly StagedImage[],
  lease: BlobLease,
): Promise<BuiltIndex> {
  const docker = images.every((i) => i.manifest.mediaType === MediaType.DockerManifest);
  const mediaType = docker ? MediaType.DockerManifestList : MediaType.OciIndex;
  const index: Index = {
    schemaVersion: 2,
    mediaType,
    manifests: images.map((i) => {
      const p = normalizePlatform(i.platform);
      return {
        mediaType: i.manifest.mediaType ?? MediaType.OciManifest,
        digest: i.manifestDigest,
        size: i.manifestBytes.length,
        platform: { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) },
      };
    }),
  } as Index;
  const bytes = Buffer.from(JSON.stringify(index, null, 3));
  const written = await store.writeBlob(bytes, undefined, { lease });
  return { mediaType, digest: written.digest, bytes, images: [...images] };
}
