import { mkdir, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type BuildEvent, build, type CacheExport, type CacheImport } from "@tsbuild/builder";
import {
  applyLayer,
  builtImage,
  copyImage,
  type Digest,
  digestHex,
  type ImageStore,
  layoutSink,
  type Manifest,
  MediaType,
  type Platform,
  parseReference,
  writeArchive,
} from "@tsbuild/oci";
import { blobFetcher, pushImage } from "@tsbuild/registry-client";
import { CliUsageError, io } from "../output.js";
import { type RegistryArgs, withRegistryClient } from "../registry-options.js";
import { type StoreArgs, withStore } from "./image-store.js";

/** Output is one `-o` / `--output` destination (docker buildx's exporters). */
export type Output =
  | { type: "image"; push: boolean }
  | { type: "oci" | "oci-archive" | "docker" | "tar" | "local"; dest: string };

const TYPES = ["image", "registry", "docker", "oci", "oci-archive", "tar", "local"];

/** parseOutput reads `type=oci,dest=DIR` (a bare `DIR` is `type=local,dest=DIR`, as buildx). */
export function parseOutput(value: string): Output {
  if (!value.includes("=")) {
    if (value === "-") throw new CliUsageError(`output to stdout is not supported: give type=…,dest=FILE`);
    return { type: "local", dest: value };
  }
  const fields = new Map<string, string>();
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0)
      throw new CliUsageError(
        `invalid value "${value}" for "--output": ${JSON.stringify(part)} is not KEY=VALUE`,
      );
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const type = fields.get("type") ?? "local";
  if (!TYPES.includes(type)) {
    throw new CliUsageError(
      `invalid value "${value}" for "--output": unknown type ${JSON.stringify(type)} (one of ${TYPES.join(", ")})`,
    );
  }
  if (type === "image" || type === "registry") {
    return { type: "image", push: type === "registry" || fields.get("push") === "true" };
  }
  const dest = fields.get("dest");
  if (!dest) throw new CliUsageError(`invalid value "${value}" for "--output": type=${type} needs dest=…`);
  if (type === "docker" && fields.get("dest") === undefined) return { type: "image", push: false };
  return { type: type as "oci" | "oci-archive" | "docker" | "tar" | "local", dest };
}

export interface RunBuildInput {
  argv: StoreArgs & RegistryArgs & { quiet?: boolean; iidfile?: string; push?: boolean; progress?: string };
  tags: string[];
  outputs: Output[];
  dockerfile: Buffer;
  dockerfileName: string;
  dockerfilePath: string;
  contextDir: string;
  buildArgs: Record<string, string>;
  target?: string;
  platform?: Platform;
  noCache: boolean;
  noCacheFilter: string[];
  pull: boolean;
  labels: Record<string, string>;
  network?: "default" | "host" | "none";
  secrets: Map<string, Uint8Array>;
  ssh: Map<string, string>;
  allow: string[];
  cacheFrom?: CacheImport[];
  cacheTo?: CacheExport[];
}

/** plainProgress prints BuildKit's plain progress: `#N [stage i/n] INSTRUCTION`, then CACHED or DONE. */
function plainProgress(write: (s: string) => void): (e: BuildEvent) => void {
  return (e) => {
    if (e.type === "step") write(`#${e.id} [${e.stage} ${e.index}/${e.total}] ${e.text}\n`);
    else if (e.type === "cached") write(`#${e.id} CACHED\n`);
    else if (e.type === "done") write(`#${e.id} DONE ${e.seconds.toFixed(1)}s\n`);
    else if (e.type === "base") write(`#0 [${e.stage}] FROM ${e.ref} (${e.source}) ${e.digest}\n`);
    else if (e.type === "warning") write(`WARNING: ${e.message}\n`);
    else if (e.type === "log") {
      for (const line of e.data.toString("utf8").split("\n")) if (line !== "") write(`#${e.id} ${line}\n`);
    }
  };
}

/** jsonEvent is one `--progress json` line: the library's event, log data as text. */
function jsonEvent(e: BuildEvent): string | undefined {
  // The image line comes after the outputs are written, with its names (below).
  if (e.type === "image") return undefined;
  return JSON.stringify(e.type === "log" ? { ...e, data: e.data.toString("utf8") } : e);
}

/** runBuild executes the build through the library and writes its outputs (the store by default). */
export async function runBuild(input: RunBuildInput): Promise<void> {
  const { stdout, stderr } = io();
  const { argv } = input;
  const quiet = argv.quiet === true || argv.progress === "quiet";
  await withStore(argv, (store) =>
    withRegistryClient(argv, async (client, signal) => {
      store.fetchBlob ??= blobFetcher(client);
      const started = Date.now();
      const result = await build({
        store,
        client,
        dockerfile: input.dockerfile,
        dockerfileName: input.dockerfileName,
        dockerfilePath: input.dockerfilePath,
        contextDir: input.contextDir,
        buildArgs: input.buildArgs,
        ...(input.target !== undefined ? { target: input.target } : {}),
        ...(input.platform ? { platform: input.platform } : {}),
        noCache: input.noCache,
        noCacheFilter: input.noCacheFilter,
        pull: input.pull,
        labels: input.labels,
        ...(input.network ? { network: input.network } : {}),
        secrets: input.secrets,
        ssh: input.ssh,
        allow: input.allow,
        ...(input.cacheFrom?.length ? { cacheFrom: input.cacheFrom } : {}),
        ...(input.cacheTo?.length ? { cacheTo: input.cacheTo } : {}),
        signal,
        ...(quiet
          ? {}
          : argv.progress === "json"
            ? {
                onEvent: (e: BuildEvent) => {
                  const line = jsonEvent(e);
                  if (line !== undefined) stdout.write(`${line}\n`);
                },
              }
            : { onEvent: plainProgress((s) => stderr.write(s)) }),
      });
      try {
        const image = result;
        const id = image.configDigest;
        const names = input.tags.map((t) => parseReference(t).toString());
        const toStore = input.outputs.length === 0 || input.outputs.some((o) => o.type === "image");
        if (toStore) {
          // No parent, as BuildKit's exporters record none: docker's history then shows <missing> on the
          // base's rows and inspect an empty Parent, even when the base is a local image.
          await store.addImage({ manifest: image.manifestBytes, names });
        }
        for (const out of input.outputs)
          if (out.type !== "image") await exportTo(store, image, names, out, signal);
        if (argv.iidfile) await writeFile(argv.iidfile, id);
        if (!quiet) {
          stderr.write(
            `#${result.steps + 1} DONE ${((Date.now() - started) / 1000).toFixed(1)}s (${result.steps} steps, ${result.cached} cached)\n`,
          );
        }
        if (quiet) stdout.write(`${id}\n`);
        else if (argv.progress === "json") {
          stdout.write(
            `${JSON.stringify({ type: "image", id, manifest: image.manifestDigest, names, steps: result.steps, cached: result.cached })}\n`,
          );
        } else {
          if (toStore) stdout.write(`Successfully built ${digestHex(id).slice(0, 12)}\n`);
          for (const n of input.tags)
            stdout.write(`Successfully tagged ${parseReference(n).familiarString()}\n`);
        }
        const push = argv.push === true || input.outputs.some((o) => o.type === "image" && o.push);
        if (push) {
          if (names.length === 0) throw new Error("--push needs a name: give -t NAME[:TAG]");
          for (const n of names) {
            const stored = await store.resolve(n);
            const r = await pushImage(client, stored, parseReference(n), { store, signal });
            if (!quiet) stdout.write(`${r.tag}: digest: ${r.digest} size: ${r.size}\n`);
          }
        }
      } finally {
        await result.lease.release();
      }
    }),
  );
}

type Built = Awaited<ReturnType<typeof build>>;

const OCI_TYPES: Record<string, string> = {
  [MediaType.DockerConfig]: MediaType.OciConfig,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerLayer]: MediaType.OciLayer,
};

/** ociManifest is the same image (same blobs) described with OCI media types. */
function ociManifest(m: Manifest): Manifest {
  const t = (x: string) => OCI_TYPES[x] ?? x;
  return {
    ...m,
    mediaType: MediaType.OciManifest,
    config: { ...m.config, mediaType: t(m.config.mediaType) },
    layers: m.layers.map((l) => ({ ...l, mediaType: t(l.mediaType) })),
  } as Manifest;
}

/** exportTo writes the image to a layout, an archive, or its root filesystem. */
async function exportTo(
  store: ImageStore,
  image: Built,
  names: string[],
  out: Exclude<Output, { type: "image" }>,
  signal: AbortSignal,
): Promise<void> {
  const configBytes = await store.layout.readBlob(image.configDigest);
  const dest = resolve(out.dest);
  // A lazy base layer is fetched (verified) from where the store recorded it, when an output needs it.
  const sizes = new Map(image.manifest.layers.map((l) => [l.digest as string, l.size]));
  const open = (d: Digest) => store.openBlob({ digest: d, size: sizes.get(d) ?? -1 }, { signal });
  if (out.type === "docker" || out.type === "oci-archive") {
    const built = builtImage(store, { rawManifest: image.manifestBytes, rawConfig: configBytes });
    await writeArchive(dest, [{ image: built, names }], { signal });
    return;
  }
  if (out.type === "oci") {
    // An OCI layout holds OCI media types (as BuildKit's oci exporter writes them; skopeo reads nothing else).
    const oci = builtImage(store, {
      rawManifest: Buffer.from(JSON.stringify(ociManifest(image.manifest), null, 3)),
      rawConfig: configBytes,
    });
    const tag = names.length > 0 ? (parseReference(names[0]!).tag ?? "latest") : undefined;
    await copyImage(oci, layoutSink(dest, tag !== undefined ? { name: tag } : {}), { signal });
    return;
  }
  // local / tar: the root filesystem the layers make.
  const dir = out.type === "local" ? dest : `${dest}.rootfs-${process.pid}`;
  await mkdir(dir, { recursive: true });
  try {
    for (const l of image.manifest.layers) await applyLayer(await open(l.digest), dir, { signal });
    if (out.type === "tar") {
      const { createLayer } = await import("@tsbuild/oci");
      const { createWriteStream } = await import("node:fs");
      const { pipeline } = await import("node:stream/promises");
      const made = createLayer({ dir }, { compression: "none", signal });
      await pipeline(made.stream, createWriteStream(dest));
      await made.result;
    }
  } finally {
    if (out.type === "tar") await rm(dir, { recursive: true, force: true });
  }
}
