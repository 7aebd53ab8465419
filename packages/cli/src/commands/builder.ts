import { join } from "node:path";
import { BuildCache, UnpackedLayers } from "@tsbuild/builder";
import type { Argv, CommandModule } from "yargs";
import { humanDuration } from "../format/duration.js";
import { humanSize } from "../format/size.js";
import { formatTable } from "../format/table.js";
import { print } from "../output.js";
import { confirm } from "./image-prune.js";
import { parsePruneFilters } from "./image-prune-filter.js";
import { type StoreArgs, withStore } from "./image-store.js";

interface PruneArgs extends StoreArgs {
  all?: boolean;
  force?: boolean;
  filter?: string[];
}

const pruneCommand: CommandModule<StoreArgs, PruneArgs> = {
  command: "prune",
  describe: "Remove build cache",
  builder: (y: Argv<StoreArgs>) =>
    y
      .option("all", {
        alias: "a",
        type: "boolean",
        describe: "Remove all unused build cache, not just dangling ones",
      })
      .option("force", { alias: "f", type: "boolean", describe: "Do not prompt for confirmation" })
      .option("filter", {
        type: "string",
        array: true,
        nargs: 1,
        describe: 'Provide filter values (e.g. "until=24h")',
      })
      .example(
        "tsbuild builder prune -a -f --filter until=24h",
        "drop every cache record not used for a day",
      ),
  handler: async (argv) => {
    const filters = argv.filter?.length ? parsePruneFilters(argv.filter) : undefined;
    if (filters && filters.labels.length > 0) throw new Error("builder prune filters take until= only");
    if (!argv.force) {
      const warning = argv.all
        ? "WARNING! This will remove all build cache."
        : "WARNING! This will remove all dangling build cache.";
      if (!(await confirm(`${warning} Are you sure you want to continue?`))) return;
    }
    const result = await withStore(argv, async (store) => {
      const pruned = await new BuildCache(store).prune({
        all: argv.all === true,
        inUse: await store.layersInUse(),
        ...(filters?.until !== undefined ? { until: filters.until } : {}),
      });
      // The unpacked layers RUN steps use are a cache of the blobs: -a drops them too.
      if (argv.all) await new UnpackedLayers(join(store.root, "buildcache", "unpacked")).prune();
      return pruned;
    });
    let out = "";
    if (result.removed.length > 0) {
      out += "Deleted build cache objects:\n";
      for (const r of result.removed) out += `${r.key.replace(/^sha256:/, "").slice(0, 25)}\n`;
      out += "\n";
    }
    out += `Total:\t${humanSize(result.bytes, 4)}\n`;
    print(out);
  },
};

const duCommand: CommandModule<StoreArgs, StoreArgs & { verbose?: boolean }> = {
  command: "du",
  describe: "Show build cache disk usage",
  builder: (y: Argv<StoreArgs>) =>
    y.example("tsbuild builder du", "list cache records with a layer, their size and last use"),
  handler: async (argv) => {
    const rows: string[][] = [["ID", "RECLAIMABLE", "SIZE", "LAST ACCESSED"]];
    let total = 0;
    let reclaimable = 0;
    await withStore(argv, async (store) => {
      const inUse = await store.layersInUse();
      const records = await new BuildCache(store).records();
      const now = Date.now();
      const seen = new Set<string>();
      for (const { record, mtimeMs } of records.sort((a, b) => b.mtimeMs - a.mtimeMs)) {
        if (!record.layer || seen.has(record.layer.digest)) continue;
        seen.add(record.layer.digest);
        const free = !inUse.has(record.layer.digest);
        total += record.layer.size;
        if (free) reclaimable += record.layer.size;
        rows.push([
          record.key.replace(/^sha256:/, "").slice(0, 25),
          String(free),
          humanSize(record.layer.size),
          `${humanDuration(now - mtimeMs)} ago`,
        ]);
      }
    });
    print(
      `${rows.length > 1 ? formatTable(rows) : ""}Reclaimable:\t${humanSize(reclaimable)}\nTotal:\t\t${humanSize(total)}\n`,
    );
  },
};

/** builderCommand is `tsbuild builder du|prune`, docker's build cache verbs. */
export const builderCommand: CommandModule<StoreArgs, StoreArgs> = {
  command: "builder <command>",
  describe: "Manage the build cache",
  builder: (y: Argv<StoreArgs>) => y.command(pruneCommand).command(duCommand).demandCommand(1),
  handler: () => {},
};
