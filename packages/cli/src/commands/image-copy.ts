import { copy } from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { print } from "../output.js";
import { type RegistryArgs, withRegistryClient } from "../registry-options.js";
import type { StoreArgs } from "./image-store.js";

interface CopyArgs extends StoreArgs, RegistryArgs {
  source: string;
  destination: string;
}

export function copyCommand(command: string): CommandModule<StoreArgs & RegistryArgs, CopyArgs> {
  return {
    command,
    describe: "Copy an image or index between registry repositories",
    builder: (y: Argv<StoreArgs & RegistryArgs>) =>
      y
        .positional("source", { type: "string", describe: "SOURCE_IMAGE[:TAG|@DIGEST]", demandOption: true })
        .positional("destination", { type: "string", describe: "TARGET_IMAGE[:TAG]", demandOption: true })
        .example(
          "tsbuild image copy registry.example.com/team/app:1 registry.example.com/prod/app:1",
          "copy within a registry: every blob is mounted, none downloaded",
        ),
    handler: async (argv) => {
      const result = await withRegistryClient(argv, (client, signal) =>
        copy(client, argv.source, argv.destination, { signal }),
      );
      print(`${result.digest}\n`);
    },
  };
}
