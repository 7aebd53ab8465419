import { writeFile } from "node:fs/promises";
import {
  type BuildEvent,
  type BuildOutput,
  type BuiltImage,
  build,
  type CacheExport,
  type CacheImport,
} from "@tsbuild/builder";
import { digestHex, type Platform, parseReference } from "@tsbuild/oci";
import { blobFetcher } from "@tsbuild/registry-client";
import { humanSize } from "../format/index.js";
import { CliUsageError, io } from "../output.js";
import { BuildOps } from "../progress/build-ops.js";
import { NULL_DISPLAY, openDisplay, progressMode } from "../progress/display.js";
import { type RegistryArgs, withRegistryClient } from "../registry-options.js";
import { type StoreArgs, withStore } from "./image-store.js";

/** Output is one `-o` / `--output` destination (docker buildx's exporters). */
export type Output = BuildOutput;

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
  platforms?: Platform[];
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

/** jsonEvent is one `--progress json` line: the library's event, log data as text. */
function jsonEvent(e: BuildEvent): string | undefined {
  // The image line comes after the outputs are written, with its names (below).
  if (e.type === "image") return undefined;
  return JSON.stringify(e.type === "log" ? { ...e, data: e.data.toString("utf8") } : e);
}

/** summary is the line after the view: how long, how many steps ran or came from the cache, the image. */
function summary(seconds: number, image: BuiltImage): string {
  const size = image.manifest.layers.reduce((n, l) => n + l.size, image.manifest.config.size);
  const run = image.steps - image.cached;
  const steps = `${image.steps} step${image.steps === 1 ? "" : "s"}`;
  return `Built ${digestHex(image.configDigest).slice(0, 12)} (${humanSize(size)}) in ${seconds.toFixed(1)}s: ${steps}, ${image.cached} cached, ${run} run\n`;
}

/** runBuild executes the build through the library (which writes the outputs and pushes) and prints its results. */
export async function runBuild(input: RunBuildInput): Promise<void> {
  const { stdout, stderr, env } = io();
  const { argv } = input;
  const quiet = argv.quiet === true || argv.progress === "quiet";
  const mode = quiet ? "quiet" : progressMode(argv.progress, stderr);
  const display = mode === "tty" || mode === "plain" ? openDisplay(mode, stderr, { env }) : NULL_DISPLAY;
  const ops = new BuildOps(input.tags.map((t) => parseReference(t).toString()));
  try {
    await withStore(argv, (store) =>
      withRegistryClient(argv, async (client, signal) => {
        store.fetchBlob ??= blobFetcher(client);
        const started = Date.now();
        const handle = build({
          store,
          client,
          dockerfile: input.dockerfile,
          dockerfileName: input.dockerfileName,
          dockerfilePath: input.dockerfilePath,
          contextDir: input.contextDir,
          buildArgs: input.buildArgs,
          ...(input.target !== undefined ? { target: input.target } : {}),
          ...(input.platform ? { platform: input.platform } : {}),
          ...(input.platforms ? { platforms: input.platforms } : {}),
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
          tags: input.tags,
          outputs: input.outputs,
          push: argv.push === true,
          signal,
        });
        for await (const e of handle) {
          if (mode === "json") {
            const line = jsonEvent(e);
            if (line !== undefined) stdout.write(`${line}\n`);
          } else for (const op of ops.of(e)) display.apply(op);
        }
        const image = await handle.result;
        // A multi-platform image is its index, as docker's containerd image store names it.
        const id = image.index?.digest ?? image.configDigest;
        if (argv.iidfile) await writeFile(argv.iidfile, id);
        display.close();
        if (mode === "tty" || mode === "plain") stderr.write(summary((Date.now() - started) / 1000, image));
        if (quiet) stdout.write(`${id}\n`);
        else if (mode === "json") {
          stdout.write(
            `${JSON.stringify({ type: "image", id, manifest: image.index?.digest ?? image.manifestDigest, names: image.names, steps: image.steps, cached: image.cached, pushed: image.pushed })}\n`,
          );
        } else {
          const toStore = input.outputs.length === 0 || input.outputs.some((o) => o.type === "image");
          if (toStore) stdout.write(`Successfully built ${digestHex(id).slice(0, 12)}\n`);
          for (const n of input.tags)
            stdout.write(`Successfully tagged ${parseReference(n).familiarString()}\n`);
          for (const p of image.pushed) {
            stdout.write(`${parseReference(p.name).tag ?? "latest"}: digest: ${p.digest} size: ${p.size}\n`);
          }
        }
      }),
    );
  } catch (err) {
    display.close(err instanceof Error ? err.message : String(err));
    throw err;
  }
}
