import {
  digestHex,
  formatPlatform,
  matchPlatform,
  type Platform,
  parsePlatform,
  parseReference,
} from "@tsbuild/oci";
import { type PullProgressEvent, pullImage } from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { io } from "../output.js";
import { type RegistryArgs, withRegistryClient } from "../registry-options.js";
import { type StoreArgs, withStore } from "./image-store.js";
import {
  type LayerRows,
  type ProgressArgs,
  progressFlags,
  TransferOutput,
  usesDefaultTag,
} from "./registry-progress.js";

interface PullArgs extends StoreArgs, RegistryArgs, ProgressArgs {
  name: string;
  platform?: string;
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
    progressFlags(
      y
        .positional("name", { type: "string", describe: "NAME[:TAG|@DIGEST]", demandOption: true })
        .option("platform", {
          type: "string",
          describe: "Set platform if server is multi-platform capable (os/arch[/variant])",
        })
        .example(
          "tsbuild pull --platform linux/arm64 debian:bookworm",
          "download the arm64 image of a multi-platform tag",
        ),
    ),
  handler: async (argv) => {
    const ref = parseReference(argv.name);
    const platform = argv.platform ? parsePlatform(argv.platform) : undefined;
    const out = new TransferOutput(argv, io().stdout, "Pulling");
    await withRegistryClient(argv, (client, signal) =>
      withStore(argv, async (store) => {
        if (usesDefaultTag(argv.name)) out.say("Using default tag: latest");
        // docker says "Pulling from" once the manifest is found, so a missing tag or a
        // registry that cannot be reached prints only the error.
        const render = out.events(pullProgress(out.rows));
        let announced = false;
        const result = await pullImage(client, ref, {
          store,
          ...(platform ? { platform } : {}),
          onProgress: (e) => {
            if (!announced && e.type === "resolved") {
              announced = true;
              out.say(`${ref.digest ?? ref.tag ?? "latest"}: Pulling from ${ref.repository}`);
            }
            render(e);
          },
          signal,
        });
        out.rows.finish();
        out.say(`Digest: ${result.digest}`);
        const shown = ref.familiarString();
        out.say(
          result.upToDate
            ? `Status: Image is up to date for ${shown}`
            : `Status: Downloaded newer image for ${shown}`,
        );
        // A single-platform image is kept even when it is not the platform asked for; docker
        // (20.10.7+) warns, and so do we.
        const { os, architecture, variant } = result.image.config;
        const actual = { os, architecture, ...(variant !== undefined && { variant }) };
        if (platform && !matchPlatform(platform, actual)) {
          out.say(
            `WARNING: image with reference ${ref.familiarName} was found but does not match the specified platform: wanted ${shownPlatform(platform)}, actual: ${shownPlatform(actual)}`,
          );
        }
        const { digest, upToDate } = result;
        out.result(
          { type: "pulled", name: ref.toString(), digest, id: result.image.id, upToDate },
          ref.toString(),
        );
      }),
    );
  },
};

/** shownPlatform is containerd's platforms.Format after Normalize: arm64's default variant v8 is not shown. */
function shownPlatform(p: Platform): string {
  return formatPlatform(
    p.architecture === "arm64" && p.variant === "v8" ? { os: p.os, architecture: p.architecture } : p,
  );
}
