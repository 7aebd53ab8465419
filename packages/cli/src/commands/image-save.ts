import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Writable } from "node:stream";
import {
  type BlobFetcher,
  type Digest,
  digestHex,
  type ImageStore,
  isDigest,
  isOciError,
  locateError,
  parseReference,
  type StoredImage,
  writeDockerArchive,
} from "@tsbuild/oci";
import type { RegistryClient } from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { onInterrupt } from "../interrupt.js";
import { CliUsageError, io } from "../output.js";
import { counted } from "../progress/counted.js";
import type { RegistryArgs } from "../registry-options.js";
import { daemonNotFound, imagesPositional, type StoreArgs, withStore } from "./image-store.js";
import { LayerRows } from "./registry-progress.js";

interface SaveArgs extends StoreArgs, RegistryArgs {
  images: string[];
  output?: string;
}

/**
 * selectForSave resolves `docker save` arguments: `name:tag` saves that tag,
 * a bare repository saves every tag of it (as docker does), an id saves the
 * image without names. Images named more than once are saved once.
 */
export async function selectForSave(
  store: ImageStore,
  args: readonly string[],
): Promise<{ image: StoredImage; names: string[] }[]> {
  const all = await store.images();
  const byManifest = new Map<Digest, { image: StoredImage; names: string[] }>();
  const add = (image: StoredImage, names: string[]) => {
    const entry = byManifest.get(image.manifestDigest) ?? { image, names: [] };
    for (const n of names) if (!entry.names.includes(n)) entry.names.push(n);
    byManifest.set(image.manifestDigest, entry);
  };
  for (const arg of args) {
    let ref: ReturnType<typeof parseReference> | undefined;
    try {
      ref = parseReference(arg, { defaultTag: false });
    } catch {
      ref = undefined;
    }
    if (ref && ref.tag === undefined && ref.digest === undefined) {
      const tagged = all.flatMap((img) =>
        img.names.filter((n) => parseReference(n).name === ref.name).map((n) => ({ img, n })),
      );
      if (tagged.length > 0) {
        for (const { img, n } of tagged) add(img, [n]);
        continue;
      }
    }
    const image = await daemonNotFound(arg, () => store.resolve(arg));
    const named = ref?.tag !== undefined ? image.names.filter((n) => n === ref.toString()) : [];
    add(image, named);
  }
  return [...byManifest.values()];
}

export function saveCommand(command: string): CommandModule<StoreArgs, SaveArgs> {
  return {
    command,
    describe: "Save one or more images to a tar archive (docker-archive that is also an OCI layout)",
    builder: (y: Argv<StoreArgs>) =>
      imagesPositional(y)
        .option("output", {
          alias: "o",
          type: "string",
          describe: "Write to a file, instead of STDOUT",
        })
        .example(
          "tsbuild image save -o nginx.tar nginx:latest",
          "write an image to an archive that docker load reads",
        ),
    handler: async (argv) => {
      const { stdout } = io();
      if (argv.output === undefined && (stdout as NodeJS.WriteStream).isTTY) {
        throw new CliUsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect");
      }
      if (argv.output !== undefined) await validateOutputPath(argv.output);
      await withStore(argv, async (store) => {
        // A lazy base layer (recorded, not held) is fetched from its registry, verified, as the archive needs it.
        const fetching = lazyFetcher(argv);
        store.fetchBlob = fetching.fetchBlob;
        const selected = await selectForSave(store, argv.images);
        // On a terminal, each layer shows as it is written (on stderr: stdout may be the archive).
        const { stderr } = io();
        const rows = (stderr as NodeJS.WriteStream).isTTY
          ? new LayerRows(stderr, "tty", { phase: "Saving" })
          : undefined;
        const inputs = await Promise.all(
          selected.map(async ({ image, names }) => ({
            names,
            manifest: await store.layout.readBlob(image.manifestDigest),
            config: await store.layout.readBlob(image.manifest.config.digest),
            blob: (d: Digest) => {
              const size = image.manifest.layers.find((l) => l.digest === d)?.size ?? -1;
              const open = store.openBlob({ digest: d, size });
              return rows ? shown(rows, d, size, open) : open;
            },
          })),
        );
        // Ctrl-C stops the write, and the partial temp file beside FILE is removed.
        const interrupt = onInterrupt();
        await writeDockerArchive(argv.output ?? keepOpen(stdout), inputs, { signal: interrupt.signal })
          .finally(() => {
            rows?.finish();
            interrupt.dispose();
            return fetching.close();
          })
          .catch((err: unknown) => {
            if (interrupt.signal.aborted) throw interrupt.signal.reason;
            // A blob that no longer matches its digest, or is gone, is the store's damage: say where.
            if (
              (isOciError(err, "DIGEST_MISMATCH") || isOciError(err, "SIZE_MISMATCH")) &&
              isDigest(err.where)
            )
              throw locateError(err, `${store.root}: corrupt blob ${store.layout.blobPath(err.where)}`);
            if (isOciError(err, "BLOB_NOT_FOUND") && isDigest(err.where))
              throw locateError(err, `${store.root}: missing blob ${store.layout.blobPath(err.where)}`);
            throw err;
          });
      });
    },
  };
}

/**
 * lazyFetcher is a store fetcher that loads the registry client only when a
 * blob must be fetched (a save of images whose layers are all here never does).
 */
export function lazyFetcher(argv: RegistryArgs): { fetchBlob: BlobFetcher; close: () => Promise<void> } {
  let client: Promise<RegistryClient> | undefined;
  const clientOf = () => {
    client ??= Promise.all([import("@tsbuild/registry-client"), import("../registry-options.js")]).then(
      ([, { registryClient }]) => registryClient(argv),
    );
    return client;
  };
  return {
    fetchBlob: (blob, options) =>
      (async function* () {
        const { blobFetcher } = await import("@tsbuild/registry-client");
        yield* blobFetcher(await clientOf())(blob, options) as AsyncIterable<Uint8Array>;
      })(),
    close: async () => {
      if (client) await (await client).close();
    },
  };
}

/** shown streams a layer while its row shows the bytes written so far, then `Saved`. */
async function* shown(
  rows: LayerRows,
  digest: Digest,
  size: number,
  open: Promise<AsyncIterable<Uint8Array>>,
): AsyncGenerator<Uint8Array> {
  const id = digestHex(digest).slice(0, 12);
  yield* counted(await open, (n) => rows.bytes(id, "Saving layer", n, size));
  rows.status(id, "Saved");
}

/** keepOpen wraps a stream we must not end (the process's stdout) as a Writable that forwards with backpressure. */
function keepOpen(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (out.write(chunk)) cb();
      else out.once("drain", () => cb());
    },
  });
}

/** validateOutputPath is docker's check before a save: the file's directory must exist (not a temp-file ENOENT later). */
async function validateOutputPath(output: string): Promise<void> {
  const dir = dirname(resolve(output));
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new Error(
      `failed to save image: invalid output path: directory ${JSON.stringify(dirname(output))} does not exist`,
    );
  }
}
