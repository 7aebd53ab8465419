import { join } from "node:path";
import { BuildCache, type UnpackedLayer, UnpackedLayers } from "@tsbuild/builder";
import { chainIds, familiarString, type ImageStore, parseReference, type StoredImage } from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { humanDuration } from "../format/duration.js";
import { humanSize } from "../format/size.js";
import { formatTable } from "../format/table.js";
import { print } from "../output.js";
import { confirm } from "./image-prune.js";
import { type StoreArgs, withStore } from "./image-store.js";

/** unpacked is the layer cache RUN steps and `tsbuild run` share. */
function unpacked(store: ImageStore): UnpackedLayers {
  return new UnpackedLayers(join(store.root, "buildcache", "unpacked"));
}

/** Usage is what `system df` counts of one kind of data. */
interface Usage {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** DiskUsage is the store's data by kind, with the rows `df -v` lists. */
interface DiskUsage {
  images: Usage;
  cache: Usage;
  layers: Usage;
  imageRows: string[][];
  cacheRows: string[][];
  layerRows: string[][];
}

/** diskUsage measures images, build cache and unpacked layers as `docker system df` does its kinds. */
async function diskUsage(store: ImageStore): Promise<DiskUsage> {
  const images = await store.images();
  const held = await unpacked(store).usage();
  const heldNames = new Set(held.filter((l) => l.inUse).map((l) => l.name));
  // An image is active while a build step or container runs on its layers (they are held).
  const isActive = (img: StoredImage) => {
    const top = chainIds(img.config.rootfs.diff_ids).at(-1);
    return top !== undefined && heldNames.has(top.slice(top.indexOf(":") + 1));
  };
  const layerSize = new Map<string, number>();
  const users = new Map<string, number>();
  const activeLayers = new Set<string>();
  for (const img of images) {
    for (const l of img.manifest.layers) {
      if (!layerSize.has(l.digest)) layerSize.set(l.digest, await store.layerSize(l));
      users.set(l.digest, (users.get(l.digest) ?? 0) + 1);
      if (isActive(img)) activeLayers.add(l.digest);
    }
  }
  const sum = (digests: Iterable<string>) => [...digests].reduce((a, d) => a + (layerSize.get(d) ?? 0), 0);
  const imageSize = sum(layerSize.keys());
  const now = Date.now();
  const imageRows: string[][] = [
    ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"],
  ];
  for (const img of images) {
    const digests = img.manifest.layers.map((l) => l.digest);
    const shared = sum(new Set(digests.filter((d) => (users.get(d) ?? 0) > 1)));
    const size = digests.reduce((a, d) => a + (layerSize.get(d) ?? 0), 0);
    const created = img.created ? `${humanDuration(now - Date.parse(img.created))} ago` : "N/A";
    const names = img.names.length > 0 ? img.names : [undefined];
    for (const name of names) {
      const ref = name ? parseReference(name) : undefined;
      imageRows.push([
        ref?.familiarName ?? "<none>",
        ref?.tag ?? "<none>",
        img.id.slice(7, 19),
        created,
        humanSize(size),
        humanSize(shared),
        humanSize(size - shared),
        isActive(img) ? "1" : "0",
      ]);
    }
  }

  const inUse = new Set(images.flatMap((i) => i.manifest.layers.map((l) => l.digest as string)));
  const cacheRows: string[][] = [["CACHE ID", "CACHE TYPE", "SIZE", "LAST USED", "SHARED"]];
  const cache: Usage = { total: 0, active: 0, size: 0, reclaimable: 0 };
  const seen = new Set<string>();
  const records = await new BuildCache(store).records();
  for (const { record, mtimeMs } of records.sort((a, b) => b.mtimeMs - a.mtimeMs)) {
    if (!record.layer || seen.has(record.layer.digest)) continue;
    seen.add(record.layer.digest);
    const shared = inUse.has(record.layer.digest);
    cache.total++;
    cache.size += record.layer.size;
    if (shared) cache.active++;
    else cache.reclaimable += record.layer.size;
    cacheRows.push([
      record.key.replace(/^sha256:/, "").slice(0, 25),
      "regular",
      humanSize(record.layer.size),
      `${humanDuration(now - mtimeMs)} ago`,
      String(shared),
    ]);
  }

  const layerRows: string[][] = [["CHAIN ID", "SIZE", "IN USE"]];
  for (const l of held) layerRows.push([l.name.slice(0, 12), humanSize(l.bytes), String(l.inUse)]);
  const bytes = (ls: UnpackedLayer[]) => ls.reduce((a, l) => a + l.bytes, 0);
  return {
    images: {
      total: images.length,
      active: images.filter(isActive).length,
      size: imageSize,
      reclaimable: imageSize - sum(activeLayers),
    },
    cache,
    layers: {
      total: held.length,
      active: heldNames.size,
      size: bytes(held),
      reclaimable: bytes(held.filter((l) => !l.inUse)),
    },
    imageRows,
    cacheRows,
    layerRows,
  };
}

/** reclaimable is docker's RECLAIMABLE cell: the size and, when there is any data, its share in whole percent. */
function reclaimable(u: Usage, percent: boolean): string {
  const r = humanSize(u.reclaimable, 4);
  return percent && u.size > 0 ? `${r} (${Math.trunc((u.reclaimable * 100) / u.size)}%)` : r;
}

const dfCommand: CommandModule<StoreArgs, StoreArgs & { verbose?: boolean }> = {
  command: "df",
  describe: "Show disk usage of images, build cache and unpacked layers",
  builder: (y: Argv<StoreArgs>) =>
    y
      .option("verbose", {
        alias: "v",
        type: "boolean",
        describe: "Show detailed information on space usage",
      })
      .example("tsbuild system df -v", "every image, cache record and unpacked layer with its size"),
  handler: async (argv) => {
    const du = await withStore(argv, diskUsage);
    if (!argv.verbose) {
      const row = (type: string, u: Usage, percent: boolean) => [
        type,
        String(u.total),
        String(u.active),
        humanSize(u.size, 4),
        reclaimable(u, percent),
      ];
      print(
        formatTable([
          ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
          row("Images", du.images, true),
          row("Build Cache", du.cache, false),
          row("Unpacked Layers", du.layers, true),
        ]),
      );
      return;
    }
    print(
      `Images space usage:\n\n${formatTable(du.imageRows)}\n` +
        `Build cache usage: ${humanSize(du.cache.size, 4)}\n\n${formatTable(du.cacheRows)}\n` +
        `Unpacked layers usage: ${humanSize(du.layers.size, 4)}\n\n${formatTable(du.layerRows)}`,
    );
  },
};

interface PruneArgs extends StoreArgs {
  all?: boolean;
  force?: boolean;
}

const pruneCommand: CommandModule<StoreArgs, PruneArgs> = {
  command: "prune",
  describe: "Remove unused data: dangling images, build cache and unpacked layers",
  builder: (y: Argv<StoreArgs>) =>
    y
      .option("all", {
        alias: "a",
        type: "boolean",
        describe: "Remove all unused images and all build cache, not just dangling ones",
      })
      .option("force", { alias: "f", type: "boolean", describe: "Do not prompt for confirmation" })
      .example("tsbuild system prune -a -f", "remove every image and all build cache"),
  handler: async (argv) => {
    const all = argv.all === true;
    if (!argv.force) {
      const warning = [
        "WARNING! This will remove:",
        all ? "  - all images" : "  - all dangling images",
        all ? "  - all build cache" : "  - unused build cache",
        "  - all unpacked layers not used by a running build or container",
        "",
        "Are you sure you want to continue?",
      ].join("\n");
      if (!(await confirm(warning))) return;
    }
    const { images, cache, layers } = await withStore(argv, async (store) => {
      const images = await store.prune({ all });
      const cache = await new BuildCache(store).prune({ all, inUse: await store.layersInUse() });
      const layers = await unpacked(store).prune();
      return { images, cache, layers };
    });
    let out = "";
    if (images.untagged.length > 0 || images.deleted.length > 0) {
      out += "Deleted Images:\n";
      for (const name of images.untagged) out += `untagged: ${familiarString(name)}\n`;
      for (const id of [...images.deleted, ...images.deletedLayers]) out += `deleted: ${id}\n`;
      out += "\n";
    }
    if (cache.removed.length > 0) {
      out += "Deleted build cache objects:\n";
      for (const r of cache.removed) out += `${r.key.replace(/^sha256:/, "").slice(0, 25)}\n`;
      out += "\n";
    }
    if (layers.removed > 0) out += `Deleted unpacked layers: ${layers.removed}\n\n`;
    out += `Total reclaimed space: ${humanSize(images.reclaimedBytes + cache.bytes + layers.bytes, 4)}\n`;
    print(out);
  },
};

/** systemCommand is `tsbuild system df|prune`, docker's verbs for the store's disk use. */
export const systemCommand: CommandModule<StoreArgs, StoreArgs> = {
  command: "system <command>",
  describe: "Manage the store's disk use",
  builder: (y: Argv<StoreArgs>) => y.command(dfCommand).command(pruneCommand).demandCommand(1),
  handler: () => {},
};
