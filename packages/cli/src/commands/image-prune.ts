import { familiarString } from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { humanSize } from "../format/size.js";
import { io, print } from "../output.js";
import { parsePruneFilters, pruneFiltered } from "./image-prune-filter.js";
import { type StoreArgs, withStore } from "./image-store.js";

interface PruneArgs extends StoreArgs {
  all?: boolean;
  force?: boolean;
  filter?: string[];
}

const WARN_DANGLING = "WARNING! This will remove all dangling images.";
const WARN_ALL = "WARNING! This will remove all images without at least one container associated to them.";

/** readLine reads one line from `input` (or what there is before EOF) without consuming more than it must. */
async function readLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const onEnd = () => finish(buf);
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("error", onError);
      input.pause();
    };
    const finish = (line: string) => {
      cleanup();
      resolve(line);
    };
    input.on("data", onData);
    input.on("end", onEnd);
    input.on("error", onError);
    input.resume();
  });
}

/** confirm is docker's PromptForConfirmation: prints "MESSAGE [y/N] " and accepts y or yes. */
export async function confirm(message: string): Promise<boolean> {
  const { stdout, stdin } = io();
  stdout.write(`${message} [y/N] `);
  const answer = (await readLine(stdin)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}

export function pruneCommand(command: string): CommandModule<StoreArgs, PruneArgs> {
  return {
    command,
    describe: "Remove unused images",
    builder: (y: Argv<StoreArgs>) =>
      y
        .option("all", {
          alias: "a",
          type: "boolean",
          describe: "Remove all unused images, not just dangling ones",
        })
        .option("force", { alias: "f", type: "boolean", describe: "Do not prompt for confirmation" })
        .option("filter", {
          type: "string",
          array: true,
          nargs: 1,
          describe: 'Provide filter values (e.g. "until=24h", "label=k=v", "label!=k")',
        })
        .example(
          "tsbuild image prune -a -f --filter until=24h",
          "remove unused images created more than a day ago, without asking",
        ),
    handler: async (argv) => {
      const filters = argv.filter?.length ? parsePruneFilters(argv.filter) : undefined;
      if (!argv.force) {
        const warning = argv.all ? WARN_ALL : WARN_DANGLING;
        if (!(await confirm(`${warning}\nAre you sure you want to continue?`))) {
          print(`Total reclaimed space: ${humanSize(0, 4)}\n`);
          return;
        }
      }
      const all = argv.all ?? false;
      const result = await withStore(argv, (store) =>
        filters ? pruneFiltered(store, all, filters) : store.prune({ all }),
      );
      let out = "";
      if (result.untagged.length > 0 || result.deleted.length > 0) {
        out += "Deleted Images:\n";
        for (const name of result.untagged) out += `untagged: ${familiarString(name)}\n`;
        for (const id of [...result.deleted, ...result.deletedLayers]) out += `deleted: ${id}\n`;
        out += "\n";
      }
      out += `Total reclaimed space: ${humanSize(result.reclaimedBytes, 4)}\n`;
      print(out);
    },
  };
}
