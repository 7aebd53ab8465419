import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type ArchiveImage,
  type Digest,
  digestHex,
  familiarString,
  type ImageStore,
  isForeignLayer,
  readArchive,
} from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { onInterrupt } from "../interrupt.js";
import { CliUsageError, io, print } from "../output.js";
import { counted } from "../progress/counted.js";
import { type StoreArgs, withStore } from "./image-store.js";
import { LayerRows } from "./registry-progress.js";

interface LoadArgs extends StoreArgs {
  input?: string;
  quiet?: boolean;
}

/**
 * loadArchive is `docker load`: every image of a docker-archive or OCI
 * archive goes into the store with its names; blobs are verified as they are
 * copied. All layers are copied before any image is named, and a failure
 * deletes what this load wrote, so a bad archive leaves the store as it was.
 * Returns the lines docker prints.
 */
export async function loadArchive(
  root: string | undefined,
  path: string,
  signal?: AbortSignal,
  rows?: LayerRows,
): Promise<string[]> {
  const archive = await readArchive(path);
  const lines: string[] = [];
  try {
    await withStore({ ...(root !== undefined && { root }) }, async (store) => {
      const written: Digest[] = [];
      const layers = archive.images
        .flatMap((img) => img.manifest.layers)
        .filter((l) => !isForeignLayer(l.mediaType) || archive.hasBlob(l.digest));
      // Leased before looking, so a layer found present is still there when its image is named.
      const lease = await store.lease(layers.map((l) => l.digest));
      try {
        for (const layer of layers) {
          if (written.includes(layer.digest) || (await store.layout.hasBlob(layer.digest))) continue;
          written.push(layer.digest);
          const id = digestHex(layer.digest).slice(0, 12);
          const source = rows
            ? counted(archive.openBlob(layer.digest), (n) => rows.bytes(id, "Loading layer", n, layer.size))
            : archive.openBlob(layer.digest);
          await store.writeBlob(
            source,
            { digest: layer.digest, size: layer.size },
            { lease, ...(signal && { signal }) },
          );
          rows?.status(id, "Loaded");
        }
        for (const img of archive.images) lines.push(...(await addLoaded(store, img)));
      } catch (err) {
        await store.discardBlobs(written, { lease });
        throw err;
      } finally {
        await lease.release();
      }
    });
  } finally {
    await archive.close();
  }
  return lines;
}

/** addLoaded names one loaded image in the store and returns docker's lines for it. */
async function addLoaded(store: ImageStore, img: ArchiveImage): Promise<string[]> {
  const lines: string[] = [];
  const previous = new Map<string, string>();
  for (const name of img.names) {
    const old = await store.resolve(name).catch(() => undefined);
    if (old) previous.set(name, old.id);
  }
  const stored = await store.addImage({ manifest: img.manifestBytes, config: img.config, names: img.names });
  for (const [name, oldId] of previous) {
    if (oldId !== stored.id) {
      lines.push(
        `The image ${familiarString(name)} already exists, renaming the old one with ID ${oldId} to empty string`,
      );
    }
  }
  if (img.names.length === 0) lines.push(`Loaded image ID: ${stored.id}`);
  for (const name of img.names) lines.push(`Loaded image: ${familiarString(name)}`);
  return lines;
}

export function loadCommand(command: string): CommandModule<StoreArgs, LoadArgs> {
  return {
    command,
    describe: "Load images from a tar archive (docker-archive or OCI archive, plain or gzip) or STDIN",
    builder: (y: Argv<StoreArgs>) =>
      y
        .option("input", {
          alias: "i",
          type: "string",
          describe: "Read from tar archive file, instead of STDIN",
        })
        // docker's -q hides only the progress bars; the "Loaded image" lines stay.
        .option("quiet", { alias: "q", type: "boolean", describe: "Suppress the load progress output" })
        .example("tsbuild image load -i nginx.tar", "add the images in an archive to the store"),
    handler: async (argv) => {
      const { stdin } = io();
      let path = argv.input;
      let spool: string | undefined;
      if (path === undefined && (stdin as NodeJS.ReadStream).isTTY) {
        throw new CliUsageError("requested load from stdin, but stdin is empty; use -i FILE or a pipe");
      }
      // Ctrl-C stops the copy and the load, which then remove what they wrote (spool file, blobs).
      const interrupt = onInterrupt();
      const { signal } = interrupt;
      try {
        if (path === undefined) {
          // The archive reader seeks; stdin is spooled to a private temp file first.
          spool = await mkdtemp(join(tmpdir(), "tsbuild-load-"));
          path = join(spool, "archive.tar");
          await pipeline(stdin as Readable, createWriteStream(path), { signal }).catch((err: unknown) => {
            throw signal.aborted ? signal.reason : err;
          });
          if ((await stat(path)).size === 0) throw new Error("requested load from stdin, but stdin is empty");
        }
        const archive = path;
        // On a terminal, docker shows each layer loading (a bar, here with its rate); -q hides it.
        const { stdout } = io();
        const tty = !argv.quiet && (stdout as NodeJS.WriteStream).isTTY === true;
        const rows = tty ? new LayerRows(stdout, "tty", { phase: "Loading" }) : undefined;
        const lines = await loadArchive(argv.root, archive, signal, rows)
          .catch((err: unknown) => {
            // The spool file is ours, not the user's: name what they gave, stdin.
            if (spool && err instanceof Error) err.message = err.message.split(archive).join("stdin");
            throw err;
          })
          .finally(() => rows?.finish());
        print(lines.map((l) => `${l}\n`).join(""));
      } finally {
        interrupt.dispose();
        if (spool) await rm(spool, { recursive: true, force: true });
      }
    },
  };
}
