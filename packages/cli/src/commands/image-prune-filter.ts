import { parseGoDuration } from "@tsbuild/builder";
import type { Digest, ImageStore, RemoveResult, StoredImage } from "@tsbuild/oci";
import { parseTime } from "../format/duration.js";
import { CliUsageError } from "../output.js";

/** PruneFilter is `docker image prune --filter`: `until=`, `label=`, `label!=`. */
export interface PruneFilter {
  until?: number;
  labels: { key: string; value?: string; negate: boolean }[];
}

/** parsePruneFilters reads `--filter` values; `until` takes a Go duration (24h) or a timestamp. */
export function parsePruneFilters(list: readonly string[], now = Date.now()): PruneFilter {
  const f: PruneFilter = { labels: [] };
  for (const item of list) {
    const m = /^(until|label!?)=(.*)$/i.exec(item);
    if (!m)
      throw new CliUsageError(`invalid filter '${item.split("=")[0]}' (prune takes until=, label=, label!=)`);
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (key === "until") {
      const ns = parseGoDuration(value);
      const t =
        ns !== undefined
          ? now - ns / 1e6
          : /^\d+(\.\d+)?$/.test(value)
            ? Number(value) * 1000
            : Date.parse(value);
      if (Number.isNaN(t)) throw new CliUsageError(`invalid until filter: ${JSON.stringify(value)}`);
      f.until = t;
    } else {
      const eq = value.indexOf("=");
      f.labels.push({
        key: eq < 0 ? value : value.slice(0, eq),
        ...(eq >= 0 && { value: value.slice(eq + 1) }),
        negate: key === "label!",
      });
    }
  }
  return f;
}

function passes(img: StoredImage, f: PruneFilter): boolean {
  if (f.until !== undefined && !((parseTime(img.created) ?? 0) < f.until)) return false;
  const labels = img.config.config?.Labels ?? {};
  return f.labels.every(({ key, value, negate }) => {
    const has = key in labels && (value === undefined || labels[key] === value);
    return negate ? !has : has;
  });
}

/**
 * pruneFiltered is `image prune` with filters: it deletes the unused images
 * (dangling ones, or with `all` every image) that pass the filter and have no
 * child image, repeating as children go, one store removal at a time.
 */
export async function pruneFiltered(store: ImageStore, all: boolean, f: PruneFilter): Promise<RemoveResult> {
  const result: RemoveResult = { untagged: [], deleted: [], deletedLayers: [], reclaimedBytes: 0 };
  for (;;) {
    const images = await store.images();
    const parents = new Set<Digest>(images.flatMap((i) => (i.parent ? [i.parent] : [])));
    const victims = images.filter(
      (i) =>
        (all || i.names.length === 0) && !parents.has(i.id) && passes(i, f) && !result.deleted.includes(i.id),
    );
    if (victims.length === 0) return result;
    for (const v of victims) {
      const r = await store.remove(v.id, { force: true });
      result.untagged.push(...r.untagged);
      result.deleted.push(...r.deleted.filter((d) => !result.deleted.includes(d)));
      result.deletedLayers.push(...r.deletedLayers);
      result.reclaimedBytes += r.reclaimedBytes;
    }
  }
}
