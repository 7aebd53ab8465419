import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type Digest, parseReference } from "@tsbuild/oci";
import { pushImage } from "@tsbuild/registry-client";
import { BuildError } from "../errors.js";
import { executeBuild } from "./engine.js";
import { EventQueue } from "./events.js";
import { type BuildOutput, exportTo, outputText } from "./outputs.js";
import type { BuildEvent, BuildOptions, BuiltImage, PushedImage } from "./types.js";

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
  let lastId = 0;
  const built = await executeBuild({
    ...options,
    dockerfile: dockerfile.bytes,
    dockerfileName: dockerfile.name,
    onEvent: (e) => {
      if ("id" in e) lastId = Math.max(lastId, e.id);
      emit(e);
    },
  });
  const { lease, ...image } = built;
  const pushed: PushedImage[] = [];
  try {
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
      await step("exporting to image", () => store.addImage({ manifest: image.manifestBytes, names }));
    }
    for (const out of outputs) {
      if (out.type === "image") continue;
      await step(outputText(out), () => exportTo(store, image, names, out, signal));
    }
    if (push) {
      for (const name of names) {
        await step(`pushing ${name}`, async (id) => {
          const stored = await store.resolve(name);
          const sizes = new Map<Digest, number>([
            [stored.manifest.config.digest, stored.manifest.config.size],
          ]);
          for (const l of stored.manifest.layers) sizes.set(l.digest, l.size);
          const total = [...sizes.values()].reduce((a, b) => a + b, 0);
          const moved = new Map<Digest, number>();
          let last = -1;
          const r = await pushImage(client!, stored, parseReference(name), {
            store,
            ...(signal ? { signal } : {}),
            onProgress: (p) => {
              moved.set(p.digest, p.status === "pushing" ? p.current : p.status === "waiting" ? 0 : p.total);
              const current = [...moved.values()].reduce((a, b) => a + b, 0);
              if (current === last) return;
              last = current;
              emit({ type: "progress", id, current, total });
            },
          });
          pushed.push({ name, digest: r.digest, size: r.size });
        });
      }
    }
  } finally {
    await lease.release();
  }
  const final: BuiltImage = { ...image, names, pushed };
  emit({ type: "image", image: final });
  return final;
}
