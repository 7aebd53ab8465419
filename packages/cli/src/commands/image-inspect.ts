import type { InspectResult } from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { goIndentJson, Template } from "../format/template.js";
import { CliUsageError, print, ReportedFailure } from "../output.js";
import { eachImage, imagesPositional, type StoreArgs, withStore } from "./image-store.js";

interface InspectArgs extends StoreArgs {
  images: string[];
  format?: string;
}

export function inspectCommand(command: string): CommandModule<StoreArgs, InspectArgs> {
  return {
    command,
    describe: "Display detailed information on one or more images",
    builder: (y: Argv<StoreArgs>) =>
      imagesPositional(y)
        .option("format", {
          alias: "f",
          type: "string",
          describe: "Format output: json (default) or a Go template",
        })
        .example("tsbuild image inspect --format '{{.Id}}' nginx", "print an image's ID"),
    handler: async (argv) => {
      let template: Template | undefined;
      if (argv.format !== undefined && argv.format !== "" && argv.format !== "json") {
        try {
          template = new Template(argv.format);
        } catch (err) {
          throw new CliUsageError(`invalid --format: ${(err as Error).message}`);
        }
      }
      const found: InspectResult[] = [];
      const failed = await withStore(argv, (store) =>
        eachImage(argv.images, async (image) => {
          found.push(await store.inspect(image));
        }),
      );
      // docker prints what it found (an empty array when nothing) even when some names failed.
      if (template) print(found.map((r) => `${template.execute(r)}\n`).join(""));
      else print(`${goIndentJson(found)}\n`);
      if (failed) throw new ReportedFailure();
    },
  };
}
