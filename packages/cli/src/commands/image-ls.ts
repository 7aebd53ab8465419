import { type Digest, parseReference, type StoredImage } from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { createdSince, formatCreatedAt, parseTime } from "../format/duration.js";
import { imageIdCell } from "../format/id.js";
import { renderList } from "../format/list.js";
import { humanSize } from "../format/size.js";
import { CliUsageError, io, print } from "../output.js";
import { type StoreArgs, withStore } from "./image-store.js";

interface LsArgs extends StoreArgs {
  reference?: string;
  all?: boolean;
  digests?: boolean;
  filter?: string[];
  format?: string;
  "no-trunc"?: boolean;
  quiet?: boolean;
}

/** ImageListRow is one line of `image ls`, with docker's field names (what `--format` templates see). */
export type ImageListRow = {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
};

const HEADERS: Record<string, string> = {
  Containers: "CONTAINERS",
  CreatedAt: "CREATED AT",
  CreatedSince: "CREATED",
  Digest: "DIGEST",
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  SharedSize: "SHARED SIZE",
  Size: "SIZE",
  Tag: "TAG",
  UniqueSize: "UNIQUE SIZE",
  VirtualSize: "SIZE",
};

/** globToRegExp is Go's path.Match for docker's reference filter (`*` does not cross `/`). */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (const ch of glob) {
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * referenceMatcher implements `docker images REPOSITORY[:TAG]` and
 * `--filter reference=`: the pattern matches the familiar or full name
 * (with tag when the pattern has one), wildcards allowed.
 */
export function referenceMatcher(pattern: string): (name: string) => boolean {
  const lastSlash = pattern.lastIndexOf("/");
  const colon = pattern.indexOf(":", lastSlash + 1);
  const re = globToRegExp(pattern);
  const withTag = colon >= 0;
  return (name) => {
    const ref = parseReference(name);
    const candidates = withTag
      ? [`${ref.familiarName}:${ref.tag}`, `${ref.name}:${ref.tag}`]
      : [ref.familiarName, ref.name];
    return candidates.some((c) => re.test(c));
  };
}

interface Filters {
  dangling?: boolean;
  references: string[];
  before?: string;
  since?: string;
  labels: string[];
}

function parseFilters(list: readonly string[]): Filters {
  const f: Filters = { references: [], labels: [] };
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq < 0) throw new CliUsageError(`bad format of filter (expected name=value): ${item}`);
    const key = item.slice(0, eq).toLowerCase();
    const value = item.slice(eq + 1);
    switch (key) {
      case "dangling":
        if (!["true", "false", "1", "0"].includes(value.toLowerCase())) {
          throw new CliUsageError(`invalid filter 'dangling=${value}'`);
        }
        f.dangling = value === "true" || value === "1";
        break;
      case "reference":
        f.references.push(value);
        break;
      case "before":
        f.before = value;
        break;
      case "since":
        f.since = value;
        break;
      case "label":
        f.labels.push(value);
        break;
      default:
        throw new CliUsageError(`invalid filter '${key}'`);
    }
  }
  return f;
}

function labelMatches(img: StoredImage, label: string): boolean {
  const labels = img.config.config?.Labels ?? {};
  const eq = label.indexOf("=");
  if (eq < 0) return label in labels;
  return labels[label.slice(0, eq)] === label.slice(eq + 1);
}

/** listImages builds the rows of `docker images` from the store, newest first. */
export async function listImages(
  images: readonly StoredImage[],
  options: {
    all?: boolean;
    reference?: string;
    filters?: readonly string[];
    noTrunc?: boolean;
    now?: number;
    resolve?: (s: string) => Promise<StoredImage>;
    /** sizeOf gives an image's SIZE: docker shows the unpacked size (store.unpackedSize); default the stored bytes. */
    sizeOf?: (img: StoredImage) => Promise<number>;
  },
): Promise<{ row: ImageListRow; image: StoredImage }[]> {
  const f = parseFilters(options.filters ?? []);
  if (options.reference) f.references.push(options.reference);
  const matchers = f.references.map(referenceMatcher);
  const parents = new Set<Digest>(images.flatMap((i) => (i.parent ? [i.parent] : [])));
  const before = f.before && options.resolve ? await options.resolve(f.before) : undefined;
  const since = f.since && options.resolve ? await options.resolve(f.since) : undefined;
  const matchedNames = (img: StoredImage) =>
    matchers.length > 0 ? img.names.filter((n) => matchers.some((m) => m(n))) : img.names;
  const hidden = (img: StoredImage): boolean => {
    const dangling = img.names.length === 0;
    if (f.dangling !== undefined && f.dangling !== dangling) return true;
    // Untagged parents of other images are intermediate layers: shown only with -a (as docker does).
    if (dangling && parents.has(img.id) && !options.all && f.dangling === undefined) return true;
    if (f.labels.some((l) => !labelMatches(img, l))) return true;
    const t = parseTime(img.created) ?? 0;
    if (before && !(t < (parseTime(before.created) ?? 0))) return true;
    if (since && !(t > (parseTime(since.created) ?? 0))) return true;
    return matchers.length > 0 && matchedNames(img).length === 0;
  };
  const sorted = [...images].sort(
    (a, b) => (parseTime(b.created) ?? 0) - (parseTime(a.created) ?? 0) || a.id.localeCompare(b.id),
  );
  const shown = sorted.filter((img) => !hidden(img));
  const sizeOf = options.sizeOf ?? (async (img: StoredImage) => img.size);
  const sizes = await Promise.all(shown.map(sizeOf));
  const out: { row: ImageListRow; image: StoredImage }[] = [];
  for (const [i, img] of shown.entries()) {
    const names = matchedNames(img);
    const size = humanSize(sizes[i] ?? 0);
    const base = {
      Containers: "N/A",
      CreatedAt: formatCreatedAt(img.created),
      CreatedSince: createdSince(img.created, options.now),
      // A multi-platform image is named by its index (what `image rm` and `push` take).
      ID: imageIdCell(img.index?.digest ?? img.id, options.noTrunc ?? false),
      SharedSize: "N/A",
      Size: size,
      UniqueSize: "N/A",
      // docker's VirtualSize column uses go-units HumanSize (4 digits), Size 3.
      VirtualSize: humanSize(sizes[i] ?? 0, 4),
    };
    // A row shows the digest only when its repository holds the image by digest (pulled or pushed there).
    const digest = img.index?.digest ?? img.manifestDigest;
    const digestIn = (repo: string | undefined) =>
      (repo === undefined ? img.repoDigests.length > 0 : img.repoDigests.includes(repo)) ? digest : "<none>";
    // As docker's formatter: a repository that holds the image by digest but has no tag of it
    // (pulled by digest, or its tags moved on) is a row `REPO <none> DIGEST`.
    const taggedRepos = new Set(img.names.map((n) => parseReference(n).name));
    const digestOnly = matchers.length > 0 ? [] : img.repoDigests.filter((r) => !taggedRepos.has(r));
    if (names.length === 0 && digestOnly.length === 0) {
      out.push({
        row: { ...base, Digest: digestIn(undefined), Repository: "<none>", Tag: "<none>" },
        image: img,
      });
    }
    for (const repo of digestOnly) {
      const Repository = parseReference(repo).familiarName;
      out.push({ row: { ...base, Digest: digest, Repository, Tag: "<none>" }, image: img });
    }
    for (const name of names) {
      const ref = parseReference(name);
      out.push({
        row: { ...base, Digest: digestIn(ref.name), Repository: ref.familiarName, Tag: ref.tag ?? "<none>" },
        image: img,
      });
    }
  }
  return out;
}

export function lsCommand(command: string, aliases: string[] = []): CommandModule<StoreArgs, LsArgs> {
  return {
    command,
    aliases,
    describe: "List images",
    builder: (y: Argv<StoreArgs>) =>
      y
        .positional("reference", { type: "string", describe: "Show only images matching REPOSITORY[:TAG]" })
        .option("all", {
          alias: "a",
          type: "boolean",
          describe: "Show all images (default hides intermediate images)",
        })
        .option("digests", { type: "boolean", describe: "Show digests" })
        .option("filter", {
          alias: "f",
          type: "string",
          array: true,
          nargs: 1,
          describe: "Filter output (dangling=, reference=, before=, since=, label=)",
        })
        .option("format", { type: "string", describe: "Format output: table, json, or a Go template" })
        .option("no-trunc", { type: "boolean", describe: "Don't truncate output" })
        .option("quiet", { alias: "q", type: "boolean", describe: "Only show image IDs" })
        .example("tsbuild image ls --filter dangling=true", "list images without a name"),
    handler: async (argv) => {
      await withStore(argv, async (store) => {
        // A broken image is reported and left out; the rest of the store still lists.
        const images = await store.images({
          multiPlatform: true,
          onUnreadable: ({ names, manifestDigest, error }) =>
            io().stderr.write(
              `WARNING: skipping image ${names.length > 0 ? names.join(", ") : manifestDigest} that cannot be read: ${error instanceof Error ? error.message : String(error)}\n`,
            ),
        });
        const rows = await listImages(images, {
          ...(argv.all !== undefined && { all: argv.all }),
          ...(argv.reference !== undefined && { reference: argv.reference }),
          filters: argv.filter ?? [],
          noTrunc: argv["no-trunc"] ?? false,
          resolve: (s) => store.resolve(s),
          // -q prints ids only: no need to count unpacked sizes.
          ...(!argv.quiet && { sizeOf: (img: StoredImage) => store.unpackedSize(img) }),
        });
        if (argv.quiet) {
          print(rows.map((r) => `${r.row.ID}\n`).join(""));
          return;
        }
        const defaultTable = argv.digests
          ? "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
          : "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
        print(
          renderList({ format: argv.format, rows: rows.map((r) => r.row), defaultTable, headers: HEADERS }),
        );
      });
    },
  };
}
