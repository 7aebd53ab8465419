import {
  copyImage,
  type Digest,
  hostPlatform,
  type ImageConfig,
  MediaType,
  newImage,
  type Platform,
  parsePlatform,
  parseReference,
  storeSink,
} from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { CliUsageError, io, print } from "../output.js";
import { importMaxSize } from "./image-import-limit.js";
import { isUrl, layerFromSource } from "./image-import-source.js";
import { type StoreArgs, withStore } from "./image-store.js";

interface ImportArgs extends StoreArgs {
  source: string;
  reference?: string;
  message?: string;
  platform?: string;
  change?: string[];
  "max-size"?: string;
}

/** sourceDateEpoch reads SOURCE_DATE_EPOCH (seconds), rejecting junk rather than ignoring it. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw))
    throw new CliUsageError(`SOURCE_DATE_EPOCH must be whole seconds, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** rfc3339 formats epoch seconds/ms as Go does for whole seconds (no fraction when there is none). */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * importImage is `docker image import`: one layer from a tarball or
 * directory, a config for `platform` with docker's "Imported from -"
 * history, stored under `names`. Returns the image id (config digest).
 */
export async function importImage(options: {
  root?: string;
  source: string;
  names: string[];
  message?: string;
  platform?: Platform;
  changes?: string[];
  /** maxSize is the --max-size flag's text; see importMaxSize for the fallbacks. */
  maxSize?: string;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}): Promise<Digest> {
  for (const name of options.names) parseReference(name);
  const platform = options.platform ?? hostPlatform();
  // --change folds through the builder's folding (loaded only when there are changes).
  const containerConfig =
    options.changes && options.changes.length > 0
      ? (await import("@tsbuild/builder")).foldChanges({}, options.changes, platform.os)
      : {};
  const epoch = sourceDateEpoch(options.env);
  const maxSize = importMaxSize(options.maxSize, options.env);
  const created = rfc3339(epoch !== undefined ? epoch * 1000 : Date.now());
  return withStore(options, async (store) => {
    const layer = await layerFromSource(options.source, {
      stdin: options.stdin,
      maxSize,
      ...(epoch !== undefined && { sourceDateEpoch: epoch }),
    });
    const lease = await store.lease();
    try {
      const writing = store.writeBlob(layer.stream, undefined, { lease, measure: false });
      // The store's error (a full disk) first: it also makes the layer stream fail, which says less.
      const [written, { diffId, diskSize }] = await Promise.all([
        writing,
        layer.result.catch(async (err: unknown) => {
          await writing;
          throw err;
        }),
      ]);
      // docker's message goes both into the config's comment (inspect's Comment) and its one history entry.
      const comment = options.message || `Imported from ${isUrl(options.source) ? options.source : "-"}`;
      const config: ImageConfig = {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant && { variant: platform.variant }),
        ...(platform["os.version"] && { "os.version": platform["os.version"] }),
        created,
        comment,
        config: containerConfig,
        rootfs: { type: "layers", diff_ids: [diffId] },
        // docker names a URL source; files and stdin are streamed to it, so they are "-".
        history: [{ created, comment }],
      };
      const image = newImage(store, {
        config,
        layers: [{ mediaType: MediaType.OciLayerGzip, digest: written.digest, size: written.size }],
      });
      try {
        if (diskSize !== undefined) await store.recordLayerSize(written.digest, diskSize);
        const stored = await copyImage(image, storeSink(store, { names: options.names, lease }));
        return stored.id;
      } catch (err) {
        // Nothing half-imported stays behind: the layer blob goes unless an image or another lease holds it.
        await store.discardBlobs([written.digest, image.configDigest], { lease });
        throw err;
      }
    } finally {
      await lease.release();
    }
  });
}

export function importCommand(command: string): CommandModule<StoreArgs, ImportArgs> {
  return {
    command,
    describe: "Import the contents from a tarball or directory to create a filesystem image",
    builder: (y: Argv<StoreArgs>) =>
      y
        .positional("source", {
          type: "string",
          describe:
            "Tarball (plain or gzip), directory, http(s) URL of a tarball, or - for a tarball on stdin",
          demandOption: true,
        })
        .positional("reference", { type: "string", describe: "REPOSITORY[:TAG] to name the image" })
        .option("message", { alias: "m", type: "string", describe: "Set commit message for imported image" })
        .option("change", {
          alias: "c",
          type: "string",
          array: true,
          nargs: 1,
          describe:
            "Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, …)",
        })
        .option("platform", {
          type: "string",
          describe: "Set platform (os/arch[/variant]), default the host's",
        })
        .option("max-size", {
          type: "string",
          describe:
            "Refuse a tarball that expands to more than this uncompressed (e.g. 512MiB, 64g; default 64GiB or $TSBUILD_IMPORT_MAX_SIZE)",
        })
        .example("tsbuild image import rootfs.tar.gz myapp:1.0", "make an image of one layer from a tarball"),
    handler: async (argv) => {
      const { stdin, env } = io();
      const id = await importImage({
        ...(argv.root !== undefined && { root: argv.root }),
        // yargs hands a lone "-" positional over as "".
        source: argv.source === "" ? "-" : argv.source,
        names: argv.reference ? [argv.reference] : [],
        ...(argv.message !== undefined && { message: argv.message }),
        ...(argv.platform !== undefined && { platform: parsePlatform(argv.platform) }),
        ...(argv.change !== undefined && { changes: argv.change }),
        ...(argv["max-size"] !== undefined && { maxSize: argv["max-size"] }),
        stdin,
        env,
      });
      print(`${id}\n`);
    },
  };
}
