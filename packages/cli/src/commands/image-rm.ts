import { familiarString, parseReference } from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { print, ReportedFailure } from "../output.js";
import { eachImage, imagesPositional, type StoreArgs, withStore } from "./image-store.js";

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
      imagesPositional(y)
        .option("force", {
          alias: "f",
          type: "boolean",
          describe: "Force removal of the image",
        })
        .example(
          "tsbuild image rm myapp:1.0",
          "untag an image, and delete it when no other tag refers to it",
        ),
    handler: async (argv) => {
      const failed = await withStore(argv, (store) =>
        eachImage(argv.images, async (image) => {
          // An image that cannot be read can still be removed; it just has no repo digests to list.
          const before = await store.resolve(image).catch(() => undefined);
          const r = await store.remove(image, { force: argv.force ?? false });
          let out = "";
          for (const name of r.untagged) out += `Untagged: ${familiarString(name)}\n`;
          // A pulled or pushed image also loses its repo@digest references, which docker lists too.
          if (before && r.deleted.includes(before.id)) {
            for (const repo of before.repoDigests)
              out += `Untagged: ${parseReference(repo).familiarName}@${before.manifestDigest}\n`;
          }
          for (const id of [...r.deleted, ...r.deletedLayers]) out += `Deleted: ${id}\n`;
          print(out);
        }),
      );
      // Like docker: each image is tried; errors are reported and the rest still go.
      if (failed) throw new ReportedFailure();
    },
  };
}
