import type { Dirent } from "node:fs";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fsPath, pathFromBytes, pathToBytes } from "@tsbuild/oci";
import { parseIgnoreFile } from "./ignorefile.js";
import { IgnorePatternError, PatternMatcher } from "./matcher.js";

/** ContextEntryKind is what a context entry is on disk (symlinks are never followed). */
export type ContextEntryKind = "file" | "directory" | "symlink" | "other";

/** ContextEntry is one path that reaches the build: slash-separated and relative to the context root. */
export interface ContextEntry {
  path: string;
  kind: ContextEntryKind;
}

/** IgnoreFile names the ignore file a build used and the patterns read from it. */
export interface IgnoreFile {
  /** path is the file that was read, or undefined when there is none. */
  path: string | undefined;
  patterns: string[];
}

/**
 * findIgnoreFile picks the ignore file as docker does: `<Dockerfile>.dockerignore`
 * beside the Dockerfile wins over `.dockerignore` at the context root.
 * Missing files are not an error; an unreadable one is.
 */
export async function findIgnoreFile(contextDir: string, dockerfilePath?: string): Promise<IgnoreFile> {
  const candidates: string[] = [];
  if (dockerfilePath !== undefined) {
    const abs = resolve(contextDir, dockerfilePath);
    candidates.push(join(dirname(abs), `${basename(abs)}.dockerignore`));
  }
  candidates.push(join(resolve(contextDir), ".dockerignore"));
  for (const path of candidates) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    return { path, patterns: parseIgnoreFile(text) };
  }
  return { path: undefined, patterns: [] };
}

/** WalkContextOptions configure walkContext. */
export interface WalkContextOptions {
  /** excludes are .dockerignore patterns (already parsed). */
  excludes?: readonly string[];
  signal?: AbortSignal;
  /** onEntry sees each included path as the walk finds it (listContext and selectBuildContext only). */
  onEntry?: (path: string, kind: ContextEntryKind) => void;
}

/**
 * walkContext yields every path of a build context that the exclude patterns
 * let through, in lexical order, parents before children. It follows
 * BuildKit's context transfer (fsutil): a directory that matches an exclude
 * is skipped whole unless a `!` exception could re-include something inside
 * it; then it is walked, and it is yielded (before its child) only if
 * something inside it is re-included.
 */
export async function* walkContext(
  root: string,
  options: WalkContextOptions = {},
): AsyncGenerator<ContextEntry> {
  yield* await listContext(root, options);
}

/** YIELD_MS: the listing gives other work (a build's requests) a turn this often. */
const YIELD_MS = 8;

/**
 * listContext is the walk as one array. Directories are read synchronously (on a warm page cache a
 * context of tens of thousands of entries is listed several times faster than with one threadpool
 * round trip per directory), by plain recursion (no generator resumed per entry and level), giving the
 * event loop a turn every few milliseconds. Names that are not UTF-8 keep their bytes (surrogate-escaped,
 * see @tsbuild/oci's pathFromBytes).
 */
export async function listContext(root: string, options: WalkContextOptions = {}): Promise<ContextEntry[]> {
  const excludes = options.excludes ?? [];
  const matcher = excludes.length > 0 ? new PatternMatcher(excludes) : undefined;
  const onlyPrefixExceptions = matcher ? hasOnlyPrefixExceptions(matcher) : true;
  const out: ContextEntry[] = [];
  const seen = options.onEntry;
  const push = seen
    ? (e: ContextEntry) => {
        out.push(e);
        seen(e.path, e.kind);
      }
    : (e: ContextEntry) => out.push(e);

  interface Visited {
    entry: ContextEntry;
    info: boolean[] | undefined;
    emitted: boolean;
  }

  // `parents` are the directories above `dir` that an exclude kept out so far (matcher only): they are
  // emitted, before their child, once something inside them is re-included.
  let turn = performance.now() + YIELD_MS;
  async function walkDir(dir: string, rel: string, parents: Visited[], excluded: boolean): Promise<void> {
    if (performance.now() > turn) {
      await new Promise<void>((r) => setImmediate(r));
      turn = performance.now() + YIELD_MS;
    }
    options.signal?.throwIfAborted();
    let dirents: { name: string; kind: ContextEntryKind }[];
    try {
      dirents = readDirents(dir);
    } catch (err) {
      // An excluded directory we only look into for exceptions may be unreadable (fsutil ignores that too).
      if (excluded && (err as NodeJS.ErrnoException).code === "EACCES") return;
      throw err;
    }
    for (const dirent of dirents) {
      const path = rel === "" ? dirent.name : `${rel}/${dirent.name}`;
      const entry: ContextEntry = { path, kind: dirent.kind };
      const isDir = entry.kind === "directory";
      if (!matcher) {
        push(entry);
        if (isDir) await walkDir(`${dir}/${dirent.name}`, path, parents, false);
        continue;
      }
      let skip = false;
      const parentInfo = parents.length > 0 ? parents[parents.length - 1]!.info : undefined;
      const result = matcher.matchesUsingParentResults(path, parentInfo);
      const info = result.info;
      if (result.matched) {
        if (isDir && onlyPrefixExceptions && !exceptionInside(matcher, path)) continue;
        skip = true;
      }
      const visited: Visited = { entry, info, emitted: false };
      if (!skip) {
        for (const parent of parents) {
          if (parent.emitted) continue;
          parent.emitted = true;
          push(parent.entry);
        }
        visited.emitted = true;
        push(entry);
      }
      if (isDir) await walkDir(`${dir}/${dirent.name}`, path, [...parents, visited], skip);
    }
  }

  await walkDir(resolve(root), "", [], false);
  return out;
}

const ASCII = /^[\x00-\x7f]*$/;

/** readDirents lists a directory sorted byte-wise, names that are not UTF-8 decoded with pathFromBytes. */
function readDirents(dir: string): { name: string; kind: ContextEntryKind }[] {
  let out: { name: string; kind: ContextEntryKind }[] = readdirSync(fsPath(dir), { withFileTypes: true }).map(
    (d) => ({ name: d.name, kind: kindOf(d) }),
  );
  if (out.some((d) => d.name.includes("\ufffd"))) {
    out = readdirSync(fsPath(dir), { withFileTypes: true, encoding: "buffer" }).map((d) => ({
      name: pathFromBytes(d.name as unknown as Buffer),
      kind: kindOf(d as unknown as Dirent),
    }));
  }
  const ascii = out.every((d) => ASCII.test(d.name));
  return out.sort((a, b) =>
    ascii
      ? a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0
      : Buffer.compare(pathToBytes(a.name), pathToBytes(b.name)),
  );
}

function kindOf(d: Dirent): ContextEntryKind {
  if (d.isDirectory()) return "directory";
  if (d.isFile()) return "file";
  if (d.isSymbolicLink()) return "symlink";
  return "other";
}

/** patternWithoutTrailingGlob strips a trailing `/**` or `/*`, as fsutil does before its prefix test. */
function patternWithoutTrailingGlob(p: string): string {
  let s = p;
  if (s.endsWith("/**")) s = s.slice(0, -3);
  if (s.endsWith("/*")) s = s.slice(0, -2);
  return s;
}

/** hasOnlyPrefixExceptions: every `!` pattern is a plain path, so a directory can be skipped by prefix test. */
function hasOnlyPrefixExceptions(matcher: PatternMatcher): boolean {
  return !matcher.patterns.some(
    (p) => p.exclusion && /[*[\]?^\\]/.test(patternWithoutTrailingGlob(p.cleaned)),
  );
}

/** exceptionInside reports whether some `!` pattern names a path inside `dir` (so the walk must go in). */
function exceptionInside(matcher: PatternMatcher, dir: string): boolean {
  if (!matcher.exclusions) return false;
  const dirSlash = `${dir}/`;
  return matcher.patterns.some(
    (p) => p.exclusion && `${patternWithoutTrailingGlob(p.cleaned)}/`.startsWith(dirSlash),
  );
}

/** BuildContextOptions name a context directory and (optionally) the Dockerfile used with it. */
export interface BuildContextOptions {
  contextDir: string;
  /** dockerfile is the Dockerfile path (absolute, or relative to contextDir); default `<contextDir>/Dockerfile`. */
  dockerfile?: string;
  signal?: AbortSignal;
  onEntry?: WalkContextOptions["onEntry"];
}

/** BuildContextSelection is what a build sends: the included entries and the ignore file behind them. */
export interface BuildContextSelection {
  contextDir: string;
  dockerfilePath: string;
  ignoreFile: IgnoreFile;
  entries: ContextEntry[];
}

/**
 * selectBuildContext lists the context a build sees. The Dockerfile and the
 * ignore file are read for the build even when the patterns exclude them
 * (as docker does), but an excluded one is not in `entries`, so `COPY . .`
 * does not copy it.
 */
export async function selectBuildContext(options: BuildContextOptions): Promise<BuildContextSelection> {
  const contextDir = resolve(options.contextDir);
  const dockerfilePath = resolve(contextDir, options.dockerfile ?? "Dockerfile");
  const ignoreFile = await findIgnoreFile(contextDir, dockerfilePath);
  let entries: ContextEntry[];
  const walkOptions: WalkContextOptions = { excludes: ignoreFile.patterns };
  if (options.signal) walkOptions.signal = options.signal;
  if (options.onEntry) walkOptions.onEntry = options.onEntry;
  try {
    entries = await listContext(contextDir, walkOptions);
  } catch (err) {
    if (err instanceof IgnorePatternError && ignoreFile.path !== undefined) {
      throw new IgnorePatternError(`${ignoreFile.path}: ${err.message}`, err.pattern);
    }
    throw err;
  }
  return { contextDir, dockerfilePath, ignoreFile, entries };
}
