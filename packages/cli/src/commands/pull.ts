import { digestHex, parsePlatform, parseReference } from "@tsbuild/oci";
import { type PullProgressEvent, pullImage } from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { onInterrupt } from "../interrupt.js";
import { io } from "../output.js";
import { type RegistryArgs, registryClient } from "../registry-options.js";
import { type StoreArgs, withStore } from "./image-store.js";
import { LayerRows, PROGRESS_CHOICES, type ProgressMode, progressMode } from "./registry-progress.js";

interface PullArgs extends StoreArgs, RegistryArgs {
  name: string;
  platform?: string;
  quiet?: boolean;
  progress?: string;
}

/**
 * pullProgress turns pull events into docker's output: per layer `Pulling fs
 * layer`, `Downloading` (a bar on a terminal), `Verifying Checksum`,
 * `Download complete`, `Pull complete`, or `Already exists`. Docker names a
 * pulled layer by its compressed digest.
 */
function pullProgress(rows: LayerRows): (e: PullProgressEvent) => void {
  return (e) => {
    if (e.type !== "layer") return;
    const id = digestHex(e.digest).slice(0, 12);
    if (e.status === "exists") rows.status(id, "Already exists");
    else if (e.status === "waiting") rows.status(id, "Pulling fs layer");
    else if (e.status === "downloading") rows.bytes(id, "Downloading", e.current, e.total);
    else if (e.status === "verifying") rows.status(id, "Verifying Checksum");
    else if (e.status === "done") {
      rows.status(id, "Download complete");
      rows.status(id, "Pull complete");
    }
  };
}

/** pullCommand is `tsbuild pull NAME[:TAG|@DIGEST]`, docker's verb, into the local store. */
export const pullCommand: CommandModule<StoreArgs & RegistryArgs, PullArgs> = {
  command: "pull <name>",
  describe: "Download an image from a registry",
  builder: (y: Argv<StoreArgs & RegistryArgs>) =>
    y
      .positional("name", { type: "string", describe: "NAME[:TAG|@DIGEST]", demandOption: true })
      .option("platform", {
        type: "string",
        describe: "Set platform if server is multi-platform capable (os/arch[/variant])",
      })
      .option("quiet", { alias: "q", type: "boolean", describe: "Suppress verbose output" })
      .option("progress", {
        type: "string",
        choices: PROGRESS_CHOICES,
        default: "auto",
        describe: "Progress output: a live view on a terminal, plain lines, or one JSON event per line",
      }),
  handler: async (argv) => {
    const { stdout } = io();
    const ref = parseReference(argv.name);
    const platform = argv.platform ? parsePlatform(argv.platform) : undefined;
    const mode: ProgressMode = progressMode(argv.progress, stdout);
    const client = registryClient(argv);
    const interrupt = onInterrupt();
    try {
      await withStore(argv, async (store) => {
        const rows = new LayerRows(argv.quiet ? nullStream : stdout, mode);
        const say = (s: string) => {
          if (!argv.quiet && mode !== "json") rows.line(s);
        };
        say(`${ref.digest ?? ref.tag ?? "latest"}: Pulling from ${ref.repository}`);
        const result = await pullImage(client, ref, {
          store,
          ...(platform ? { platform } : {}),
          onProgress:
            mode === "json"
              ? (e) => {
                  if (!argv.quiet) stdout.write(`${JSON.stringify(e)}\n`);
                }
              : pullProgress(rows),
          signal: interrupt.signal,
        });
        rows.finish();
        say(`Digest: ${result.digest}`);
        const shown = ref.familiarString();
        say(
          result.upToDate
            ? `Status: Image is up to date for ${shown}`
            : `Status: Downloaded newer image for ${shown}`,
        );
        if (mode === "json") {
          stdout.write(
            `${JSON.stringify({ type: "pulled", name: ref.toString(), digest: result.digest, id: result.image.id, upToDate: result.upToDate })}\n`,
          );
        } else stdout.write(`${ref.toString()}\n`);
      });
    } finally {
      interrupt.dispose();
      await client.close();
    }
  },
};

/** nullStream swallows output (`--quiet`). */
const nullStream = { write: () => true } as unknown as NodeJS.WritableStream;
