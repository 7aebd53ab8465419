import { stat } from "node:fs/promises";
import {
  type Addendum,
  append,
  archiveSink,
  copyImage,
  type Digest,
  directoryLayer,
  emptyImage,
  type Image,
  type Layer,
  layoutSink,
  parsePlatform,
  parseReference,
  storeImage,
  storeSink,
  tarLayer,
} from "@tsbuild/oci";
import { registrySink, resolveImage } from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { CliUsageError, io, print } from "../output.js";
import { type RegistryArgs, withRegistryClient } from "../registry-options.js";
import { sourceDateEpoch } from "./image-import.js";
import { daemonNotFound, type StoreArgs, withStore } from "./image-store.js";

interface AppendArgs extends StoreArgs, RegistryArgs {
  base?: string;
  "base-store"?: string;
  layer: string[];
  tag?: string;
  output: string;
  platform?: string;
  chown?: string;
  prefix?: string;
}

/** Output is where `image append` writes: the store, an OCI layout, a docker archive or the tag's registry. */
type Output =
  | { kind: "store" }
  | { kind: "oci"; dir: string }
  | { kind: "docker"; file: string }
  | { kind: "registry" };

/** parseOutput reads `--output store|oci=DIR|docker=FILE|registry`. */
export function parseOutput(value: string): Output {
  if (value === "store" || value === "registry") return { kind: value };
  const eq = value.indexOf("=");
  const kind = eq < 0 ? value : value.slice(0, eq);
  const path = eq < 0 ? "" : value.slice(eq + 1);
  if ((kind === "oci" || kind === "docker") && path !== "")
    return kind === "oci" ? { kind, dir: path } : { kind, file: path };
  throw new CliUsageError(
    `invalid --output ${JSON.stringify(value)}: give store, oci=DIR, docker=FILE or registry`,
  );
}

function parseChown(value: string): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(value);
  if (!m) throw new CliUsageError(`invalid --chown ${JSON.stringify(value)}: give UID:GID, e.g. 0:0`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

/** layerFrom makes a layer of a directory (packed deterministically) or a tar file (plain or gzip). */
async function layerFrom(path: string, argv: AppendArgs, epoch: number | undefined): Promise<Layer> {
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory()) {
    return directoryLayer(path, {
      ...(argv.chown !== undefined && { chown: parseChown(argv.chown) }),
      ...(argv.prefix !== undefined && { prefix: argv.prefix }),
      ...(epoch !== undefined && { sourceDateEpoch: epoch }),
    });
  }
  return tarLayer(path);
}

export function appendCommand(command: string): CommandModule<StoreArgs & RegistryArgs, AppendArgs> {
  return {
    command,
    describe: "Append directories or tarballs to an image as layers",
    builder: (y: Argv<StoreArgs & RegistryArgs>) =>
      y
        .option("base", {
          alias: "b",
          type: "string",
          describe: "Base image in a registry (default: empty, as FROM scratch)",
        })
        .option("base-store", { type: "string", describe: "Base image in the local store (name or ID)" })
        .option("layer", {
          alias: "f",
          type: "string",
          array: true,
          nargs: 1,
          demandOption: true,
          describe: "Directory or tarball (plain or gzip) to append as a layer (repeatable, bottom first)",
        })
        .option("tag", { alias: "t", type: "string", describe: "Name of the new image" })
        .option("output", {
          alias: "o",
          type: "string",
          default: "store",
          describe: "Where to write it: store, oci=DIR, docker=FILE, or registry (pushes to --tag)",
        })
        .option("platform", {
          type: "string",
          describe: "Platform of an empty base, or to pick from a registry base's index",
        })
        .option("chown", {
          type: "string",
          describe: "Owner UID:GID of every entry of a directory layer (e.g. 0:0)",
        })
        .option("prefix", {
          type: "string",
          describe: "Path in the image under which directory layers are put",
        })
        .example(
          "tsbuild image append --base-store debian:bookworm -f ./dist --prefix app --chown 0:0 -t myapp:1",
          "add a directory as a layer to a stored image",
        ),
    handler: async (argv) => {
      const output = parseOutput(argv.output);
      if (argv.base !== undefined && argv["base-store"] !== undefined)
        throw new CliUsageError("give --base or --base-store, not both");
      if (output.kind === "registry" && argv.tag === undefined)
        throw new CliUsageError("--output registry pushes to --tag: give one");
      const tag = argv.tag !== undefined ? parseReference(argv.tag) : undefined;
      const platform = argv.platform !== undefined ? parsePlatform(argv.platform) : undefined;
      const digest = await withRegistryClient(argv, (client, signal) =>
        withStore(argv, async (store): Promise<Digest> => {
          let base: Image;
          if (argv["base-store"] !== undefined) {
            const name = argv["base-store"];
            base = await daemonNotFound(name, () => storeImage(store, name));
          } else if (argv.base !== undefined) {
            base = await resolveImage(client, parseReference(argv.base), {
              ...(platform && { platform }),
              signal,
            });
          } else base = emptyImage(platform ? { platform } : {});
          // SOURCE_DATE_EPOCH of this command's environment (not the process's: tests run the CLI in process).
          const epoch = sourceDateEpoch(io().env);
          const created = new Date(epoch !== undefined ? epoch * 1000 : Date.now())
            .toISOString()
            .replace(/\.000Z$/, "Z");
          const layers: Addendum[] = [];
          for (const path of argv.layer)
            layers.push({
              layer: await layerFrom(path, argv, epoch),
              history: { created, created_by: "tsbuild append" },
            });
          const image = append(base, ...layers);
          const names = tag ? [tag.toString()] : [];
          switch (output.kind) {
            case "store":
              await copyImage(image, storeSink(store, { names }), { signal });
              break;
            case "oci":
              await copyImage(image, layoutSink(output.dir, tag ? { name: tag.toString() } : {}), { signal });
              break;
            case "docker":
              await copyImage(image, archiveSink(output.file, { names }), { signal });
              break;
            case "registry":
              await copyImage(image, registrySink(client, tag!), { signal });
              break;
          }
          return image.digest;
        }),
      );
      print(`${digest}\n`);
    },
  };
}
