import {
  comparePaths,
  type Digest,
  type ImageConfig,
  type LayerEntryInfo,
  type Manifest,
  OciError,
  OciLayout,
  parseImageConfig,
  parseManifestOrIndex,
  readArchive,
  readLayerEntries,
} from "@tsbuild/oci";

export { compareDescriptions, type Difference, diffDescriptions, type KnownDifference } from "./compare.js";

/**
 * EntryDescription is one filesystem object as the golden files record it:
 * everything a layer says about it except timestamps. `path` is absolute
 * ("/etc/passwd"), `mode` the permission bits in octal including
 * setuid/setgid/sticky ("4755", "1777").
 */
export interface EntryDescription {
  path: string;
  /** type is a LayerEntryType, or "whiteout" / "opaque" for `.wh.NAME` / `.wh..wh..opq` (which carry nothing else). */
  type: string;
  mode?: string;
  uid?: number;
  gid?: number;
  /** size and sha256 of a regular file's content (in `tree`, a hardlink's too: it is the same inode). */
  size?: number;
  sha256?: string;
  /** linkname is a symlink's target as written, or a hardlink's target as an absolute path. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** xattrs, hex-encoded values, only when the entry has any. */
  xattrs?: Record<string, string>;
}

/** GoldenError is thrown for misuse of the golden tools (a bad case, a base count beyond the image). */
export class GoldenError extends Error {
  override readonly name = "GoldenError";
  readonly code: "BAD_BASE_LAYERS" | "BAD_CASE" | "BASE_CHANGED";
  constructor(code: GoldenError["code"], message: string) {
    super(message);
    this.code = code;
  }
}

/** HistoryDescription is a history entry without `created`. */
export interface HistoryDescription {
  created_by?: string;
  comment?: string;
  author?: string;
  empty_layer?: true;
}

/** ConfigDescription is the image config minus timestamps and layer digests. */
export interface ConfigDescription {
  architecture: string;
  os: string;
  variant?: string;
  author?: string;
  config: Record<string, unknown>;
  history: HistoryDescription[];
}

/** ImageDescription is what a golden expected.json holds. */
export interface ImageDescription {
  config: ConfigDescription;
  /** layers are the build's own layers (the base image's first N skipped), each sorted by path. */
  layers: EntryDescription[][];
  /** tree is the merged filesystem after every layer, whiteouts applied, sorted by path. */
  tree: EntryDescription[];
}

export interface DescribeOptions {
  /** baseLayers is how many of the image's first layers belong to its base (left out of `layers`). */
  baseLayers: number;
}

/** ImageSource is an image reduced to what describeImage reads: config bytes and a way to open each layer. */
export interface ImageSource {
  config: Uint8Array;
  layers: Array<() => AsyncIterable<Uint8Array>>;
}

/** CONFIG_FIELDS are the members of config.config that the golden files compare. */
const CONFIG_FIELDS = [
  "Env",
  "Cmd",
  "Entrypoint",
  "WorkingDir",
  "User",
  "Labels",
  "ExposedPorts",
  "Volumes",
  "StopSignal",
  "Healthcheck",
  "Shell",
  "OnBuild",
  "ArgsEscaped",
] as const;

/** isEmpty is true for values that mean "not set" in docker's config: null, "", {}. */
function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === "") return true;
  return typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0;
}

/** describeConfig keeps the config fields that do not depend on time or on layer bytes. */
export function describeConfig(config: ImageConfig): ConfigDescription {
  const inner: Record<string, unknown> = {};
  const c = (config.config ?? {}) as Record<string, unknown>;
  for (const k of CONFIG_FIELDS) {
    const v = c[k];
    if (k === "ArgsEscaped" ? v === true : !isEmpty(v)) inner[k] = v;
  }
  const out: ConfigDescription = {
    architecture: config.architecture,
    os: config.os,
    config: inner,
    history: (config.history ?? []).map((h) => {
      const d: HistoryDescription = {};
      if (h.created_by !== undefined && h.created_by !== "") d.created_by = h.created_by;
      if (h.comment) d.comment = h.comment;
      if (h.author) d.author = h.author;
      if (h.empty_layer) d.empty_layer = true;
      return d;
    }),
  };
  if (config.variant) out.variant = config.variant;
  if (config.author) out.author = config.author;
  return out;
}

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** entryPath turns a tar name ("./a/b/", "a/b") into the absolute path "/a/b". */
function entryPath(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  return `/${parts.join("/")}`;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/** describeEntry is one tar entry as recorded in `layers` (hardlinks keep their own header fields). */
export function describeEntry(e: LayerEntryInfo): EntryDescription {
  const path = entryPath(e.name);
  const base = baseOf(path);
  if (base === OPAQUE) return { path, type: "opaque" };
  if (base.startsWith(WH)) return { path, type: "whiteout" };
  const type = e.type ?? e.rawType;
  const d: EntryDescription = { path, type, mode: octal(e.mode), uid: e.uid, gid: e.gid };
  if (type === "file") {
    d.size = e.size;
    d.sha256 = (e.digest ?? "").replace(/^sha256:/, "");
  }
  if (type === "symlink") d.linkname = e.linkname ?? "";
  if (type === "hardlink") d.linkname = entryPath(e.linkname ?? "");
  if (type === "char" || type === "block") {
    d.devmajor = e.devmajor;
    d.devminor = e.devminor;
  }
  const names = Object.keys(e.xattrs).sort();
  if (names.length > 0) d.xattrs = Object.fromEntries(names.map((n) => [n, e.xattrs[n]!.toString("hex")]));
  return d;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

function baseOf(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** removeUnder deletes `p` (when `self`) and everything below it from the tree. */
function removeUnder(tree: Map<string, EntryDescription>, p: string, self: boolean): void {
  const prefix = p === "/" ? "/" : `${p}/`;
  for (const k of [...tree.keys()])
    if ((self && k === p) || (k !== p && k.startsWith(prefix))) tree.delete(k);
}

/**
 * applyToTree applies one layer's entries the way an overlay snapshotter does:
 * first its whiteouts and opaque markers remove what lower layers had, then
 * its entries are added; a non-directory replacing a directory drops the
 * directory's contents, and a hardlink takes the metadata and content of its
 * target (one inode).
 */
export function applyToTree(tree: Map<string, EntryDescription>, layer: EntryDescription[]): void {
  for (const e of layer) {
    if (e.type === "opaque") removeUnder(tree, parentOf(e.path), false);
    else if (e.type === "whiteout") {
      removeUnder(tree, `${parentOf(e.path).replace(/^\/$/, "")}/${baseOf(e.path).slice(WH.length)}`, true);
    }
  }
  for (const e of layer) {
    if (e.type === "whiteout" || e.type === "opaque") continue;
    const old = tree.get(e.path);
    if (old && !(old.type === "dir" && e.type === "dir")) removeUnder(tree, e.path, false);
    if (e.type === "hardlink") {
      const target = tree.get(e.linkname ?? "");
      const { path: _p, linkname: _l, type: _t, ...inode } = target ?? e;
      tree.set(e.path, { path: e.path, type: "hardlink", linkname: e.linkname, ...inode });
      continue;
    }
    tree.set(e.path, { ...e });
  }
}

/** sortEntries orders entries as a depth-first walk (parents first, siblings byte-wise). */
function sortEntries(entries: EntryDescription[]): EntryDescription[] {
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

/** describeImage reads every layer of `image` and returns its golden description. */
export async function describeImage(image: ImageSource, opts: DescribeOptions): Promise<ImageDescription> {
  const config = parseImageConfig(Buffer.from(image.config));
  if (opts.baseLayers < 0 || opts.baseLayers > image.layers.length) {
    throw new GoldenError(
      "BAD_BASE_LAYERS",
      `baseLayers is ${opts.baseLayers} but the image has ${image.layers.length} layers`,
    );
  }
  const tree = new Map<string, EntryDescription>();
  const layers: EntryDescription[][] = [];
  for (const [i, open] of image.layers.entries()) {
    // Tar order is kept while applying: a hardlink must follow its target within a layer.
    const entries = (await readLayerEntries(open())).map(describeEntry);
    applyToTree(tree, entries);
    if (i >= opts.baseLayers) layers.push(sortEntries(entries));
  }
  return { config: describeConfig(config), layers, tree: sortEntries([...tree.values()]) };
}

/**
 * substitute replaces `from` by `to` in every string of the config (history,
 * Env, Labels…), for values that differ on every run, such as the random port
 * of the URL an ADD case downloads from.
 */
export function substitute(d: ImageDescription, from: string, to: string): ImageDescription {
  const config = JSON.parse(JSON.stringify(d.config), (_k, v) =>
    typeof v === "string" ? v.split(from).join(to) : v,
  ) as ConfigDescription;
  return { ...d, config };
}

/** describeArchive describes an image in a `docker save` (or OCI archive) tar; `name` picks one of several. */
export async function describeArchive(
  file: string,
  opts: DescribeOptions & { name?: string },
): Promise<ImageDescription> {
  const archive = await readArchive(file);
  try {
    const images = opts.name
      ? archive.images.filter((img) => img.names.some((n) => n === opts.name || n.endsWith(`/${opts.name}`)))
      : archive.images;
    if (images.length !== 1) {
      throw new OciError(
        "IMAGE_NOT_FOUND",
        `expected one image${opts.name ? ` named ${opts.name}` : ""} in the archive, found ${images.length}`,
        { where: file },
      );
    }
    const img = images[0]!;
    return await describeImage(
      { config: img.config, layers: img.manifest.layers.map((l) => () => archive.openBlob(l.digest)) },
      opts,
    );
  } finally {
    await archive.close();
  }
}

/**
 * describeLayout describes an image in an OCI layout directory, chosen by
 * `ref` (an `org.opencontainers.image.ref.name` annotation) or `digest` (of a
 * manifest, or of an index whose linux/amd64 manifest is taken), or the
 * layout's only entry.
 */
export async function describeLayout(
  dir: string,
  opts: DescribeOptions & { ref?: string; digest?: string },
): Promise<ImageDescription> {
  const layout = await OciLayout.open(dir);
  const index = await layout.readIndex();
  const found = index.manifests.filter((d) =>
    opts.digest
      ? d.digest === opts.digest
      : opts.ref
        ? d.annotations?.["org.opencontainers.image.ref.name"] === opts.ref
        : true,
  );
  let digest: string | undefined = found.length === 1 ? found[0]!.digest : opts.digest;
  if (!digest) {
    throw new OciError("IMAGE_NOT_FOUND", `expected one matching manifest, found ${found.length}`, {
      where: dir,
    });
  }
  let manifest: Manifest | undefined;
  for (let depth = 0; depth < 4 && !manifest; depth++) {
    const parsed = parseManifestOrIndex(await layout.readBlob(digest));
    if (parsed.kind === "manifest") manifest = parsed.manifest;
    else {
      const m = parsed.index.manifests;
      const pick = m.length === 1 ? m[0] : m.find((d) => d.platform?.architecture === "amd64");
      if (!pick) throw new OciError("IMAGE_NOT_FOUND", "index has no linux/amd64 manifest", { where: dir });
      digest = pick.digest;
    }
  }
  if (!manifest) throw new OciError("IMAGE_NOT_FOUND", "indexes nest too deeply", { where: dir });
  return describeImage(
    {
      config: await layout.readBlob(manifest.config.digest),
      layers: manifest.layers.map((l) => () => layout.openBlob(l.digest as Digest)),
    },
    opts,
  );
}
