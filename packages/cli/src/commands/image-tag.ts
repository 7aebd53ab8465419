import type { Argv, CommandModule } from "yargs";
import { daemonNotFound, type StoreArgs, withStore } from "./image-store.js";

interface TagArgs extends StoreArgs {
  source: string;
  target: string;
}

export function tagCommand(command: string): CommandModule<StoreArgs, TagArgs> {
  return {
    command,
    describe: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    builder: (y: Argv<StoreArgs>) =>
      y
        .positional("source", {
          type: "string",
          describe: "SOURCE_IMAGE[:TAG] or image ID",
          demandOption: true,
        })
        .positional("target", { type: "string", describe: "TARGET_IMAGE[:TAG]", demandOption: true })
        .example(
          "tsbuild image tag myapp:1.0 registry.example.com/team/myapp:1.0",
          "name an image for another registry",
        ),
    handler: async (argv) => {
      await withStore(argv, (store) =>
        daemonNotFound(argv.source, () => store.tag(argv.source, argv.target)),
      );
    },
  };
}
