import { familiarString, parseReference } from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { print, ReportedFailure, reportError } from "../output.js";
import { type StoreArgs, withStore } from "./image-store.js";

interface RmArgs extends StoreArgs {
  images: string[];
  force?: boolean;
}

export function rmCommand(command: string, aliases: string[] = []): CommandModule<StoreArgs, RmArgs> {
  return {
    command,
    aliases,
    describe: "Remove one or more images",
    builder: (y: Argv<StoreArgs>) =>
      y
        .positional("images", {
          type: "string",
          array: true,
          describe: "IMAGE (name or ID)",
          demandOption: true,
        })
        .option("force", { alias: "f", type: "boolean", describe: "Force removal of the image" }),
    handler: async (argv) => {
      let failed = false;
      await withStore(argv, async (store) => {
        // Like docker: each image is tried; errors are reported and the rest still go.
        for (const image of argv.images) {
          try {
            const before = await store.resolve(image);
            const r = await store.remove(image, { force: argv.force ?? false });
            let out = "";
            for (const name of r.untagged) out += `Untagged: ${familiarString(name)}\n`;
            // A pulled or pushed image also loses its repo@digest references, which docker lists too.
            if (before.repoDigests && r.deleted.includes(before.id)) {
              const repos = new Set(before.names.map((n) => parseReference(n).familiarName));
              for (const repo of repos) out += `Untagged: ${repo}@${before.manifestDigest}\n`;
            }
            for (const id of [...r.deleted, ...r.deletedLayers]) out += `Deleted: ${id}\n`;
            print(out);
          } catch (err) {
            reportError(err);
            failed = true;
          }
        }
      });
      if (failed) throw new ReportedFailure();
    },
  };
}
