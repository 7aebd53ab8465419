import { type Digest, digestHex, parsePlatform, parseReference } from "@tsbuild/oci";
import { type PullProgressEvent, pullImage } from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { onInterrupt } from "../interrupt.js";
import { io } from "../output.js";
import { type RegistryArgs, registryClient } from "../registry-options.js";
import { type StoreArgs, withStore } from "./image-store.js";

interface PullArgs extends StoreArgs, RegistryArgs {
  name: string;
  platform?: string;
  quiet?: boolean;
}

/** shortId is the 12-hex-digit id docker prints for a layer. */
function shortId(d: Digest): string {
  return digestHex(d).slice(0, 12);
}

/**
 * pullLines turns pull progress into docker's line-based (non-TTY) output:
 * one line per layer state change, never a progress bar.
 */
function pullLines(write: (s: string) => void): (e: PullProgressEvent) => void {
  const last = new Map<Digest, string>();
  const say = (d: Digest, text: string) => {
    if (last.get(d) === text) return;
    last.set(d, text);
    write(`${shortId(d)}: ${text}\n`);
  };
  return (e) => {
    if (e.type !== "layer") return;
    if (e.status === "exists") say(e.digest, "Already exists");
    else if (e.status === "waiting") say(e.digest, "Pulling fs layer");
    else if (e.status === "verifying") say(e.digest, "Verifying Checksum");
    else if (e.status === "done") {
      say(e.digest, "Download complete");
      say(e.digest, "Pull complete");
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
      .option("quiet", { alias: "q", type: "boolean", describe: "Suppress verbose output" }),
  handler: async (argv) => {
    const { stdout } = io();
    const ref = parseReference(argv.name);
    const platform = argv.platform ? parsePlatform(argv.platform) : undefined;
    const client = registryClient(argv);
    const interrupt = onInterrupt();
    try {
      await withStore(argv, async (store) => {
        const write = (s: string) => {
          if (!argv.quiet) stdout.write(s);
        };
        write(`${ref.digest ?? ref.tag ?? "latest"}: Pulling from ${ref.repository}\n`);
        const result = await pullImage(client, ref, {
          store,
          ...(platform ? { platform } : {}),
          onProgress: pullLines(write),
          signal: interrupt.signal,
        });
        write(`Digest: ${result.digest}\n`);
        const shown = ref.familiarString();
        write(
          result.upToDate
            ? `Status: Image is up to date for ${shown}\n`
            : `Status: Downloaded newer image for ${shown}\n`,
        );
        stdout.write(`${ref.toString()}\n`);
      });
    } finally {
      interrupt.dispose();
      await client.close();
    }
  },
};
