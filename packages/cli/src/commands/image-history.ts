import type { HistoryRow } from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { createdSince, parseTime } from "../format/duration.js";
import { imageIdCell } from "../format/id.js";
import { renderList } from "../format/list.js";
import { humanSize } from "../format/size.js";
import { ellipsis } from "../format/table.js";
import { print } from "../output.js";
import { daemonNotFound, type StoreArgs, withStore } from "./image-store.js";

interface HistoryArgs extends StoreArgs {
  image: string;
  format?: string;
  human?: boolean;
  "no-trunc"?: boolean;
  quiet?: boolean;
}

const HEADERS: Record<string, string> = {
  ID: "IMAGE",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  CreatedBy: "CREATED BY",
  Size: "SIZE",
  Comment: "COMMENT",
};

/** historyListRow maps a store history row to docker's history fields (what `--format` sees). */
export function historyListRow(
  r: HistoryRow,
  options: { noTrunc: boolean; human: boolean; now?: number },
): Record<string, string> {
  const createdBy = r.createdBy.replace(/\t/g, " ");
  // docker's history CreatedAt is RFC 3339 to the second (and CreatedSince too without --human).
  const createdAt = new Date(parseTime(r.created) ?? 0).toISOString().replace(/\.\d+Z$/, "Z");
  return {
    ID: r.id === "<missing>" ? r.id : imageIdCell(r.id, options.noTrunc),
    CreatedSince: options.human ? createdSince(r.created, options.now) : createdAt,
    CreatedAt: createdAt,
    CreatedBy: options.noTrunc ? createdBy : ellipsis(createdBy, 45),
    Size: options.human ? humanSize(r.size) : String(r.size),
    Comment: r.comment,
  };
}

export function historyCommand(command: string): CommandModule<StoreArgs, HistoryArgs> {
  return {
    command,
    describe: "Show the history of an image",
    builder: (y: Argv<StoreArgs>) =>
      y
        .positional("image", { type: "string", describe: "IMAGE (name or ID)", demandOption: true })
        .option("format", { type: "string", describe: "Format output: table, json, or a Go template" })
        .option("human", {
          alias: "H",
          type: "boolean",
          default: true,
          describe: "Print sizes and dates in human readable format",
        })
        .option("no-trunc", { type: "boolean", describe: "Don't truncate output" })
        .option("quiet", { alias: "q", type: "boolean", describe: "Only show image IDs" })
        .example(
          "tsbuild image history --no-trunc nginx:latest",
          "show every layer of an image with its full command",
        ),
    handler: async (argv) => {
      const rows = await withStore(argv, (store) =>
        daemonNotFound(argv.image, () => store.history(argv.image)),
      );
      const opts = { noTrunc: argv["no-trunc"] ?? false, human: argv.human ?? true };
      const list = rows.map((r) => historyListRow(r, opts));
      if (argv.quiet) {
        print(list.map((r) => `${r.ID}\n`).join(""));
        return;
      }
      print(
        renderList({
          format: argv.format,
          rows: list,
          // Without --human docker shows the CREATED AT column instead of CREATED.
          defaultTable: `{{.ID}}\t{{.${opts.human ? "CreatedSince" : "CreatedAt"}}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}`,
          headers: HEADERS,
        }),
      );
    },
  };
}
