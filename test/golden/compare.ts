import type { EntryDescription, ImageDescription } from "./describe.js";

/**
 * KnownDifference explains a difference that is accepted: by entry `path`
 * (exact, or a prefix ending in "/**"), by `field` (an entry field such as
 * "mode", or a config path such as "config.Healthcheck", "history[3]" or
 * "layers"), or both; `layer` narrows it to one of the build's layers.
 * `current`, when given, is what current BuildKit gives there: tsbuild's value
 * must then be exactly it, not just differ from docker 20.10's.
 */
export interface KnownDifference {
  path?: string;
  field?: string;
  layer?: number;
  current?: unknown;
  reason: string;
}

/** Difference is one mismatch between two descriptions, with a line a person can read in `text`. */
export interface Difference {
  where: "config" | "layers" | "tree";
  /** layer is the index among the build's layers, for `where: "layers"`. */
  layer?: number;
  path?: string;
  field: string;
  expected: unknown;
  actual: unknown;
  text: string;
}

const ENTRY_FIELDS = [
  "type",
  "mode",
  "uid",
  "gid",
  "size",
  "sha256",
  "linkname",
  "devmajor",
  "devminor",
  "xattrs",
];

function show(v: unknown): string {
  return v === undefined ? "(absent)" : JSON.stringify(v);
}

function summary(e: EntryDescription): string {
  return e.mode === undefined ? e.type : `${e.type} ${e.mode} ${e.uid}:${e.gid}`;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** diffValue walks objects key by key and arrays of objects index by index; anything else is compared whole. */
function diffValue(field: string, e: unknown, a: unknown, out: Difference[]): void {
  if (isObject(e) && isObject(a)) {
    for (const k of [...new Set([...Object.keys(e), ...Object.keys(a)])].sort()) {
      diffValue(field ? `${field}.${k}` : k, e[k], a[k], out);
    }
    return;
  }
  if (Array.isArray(e) && Array.isArray(a) && [...e, ...a].some(isObject)) {
    if (e.length !== a.length) {
      out.push({
        where: "config",
        field: `${field}.length`,
        expected: e.length,
        actual: a.length,
        text: `${field}: expected ${e.length} entries, actual ${a.length}`,
      });
    }
    for (let i = 0; i < Math.max(e.length, a.length); i++) diffValue(`${field}[${i}]`, e[i], a[i], out);
    return;
  }
  if (!same(e, a)) {
    out.push({
      where: "config",
      field,
      expected: e,
      actual: a,
      text: `${field}: expected ${show(e)}, actual ${show(a)}`,
    });
  }
}

function diffEntries(
  where: "layers" | "tree",
  layer: number | undefined,
  expected: EntryDescription[],
  actual: EntryDescription[],
  out: Difference[],
): void {
  const label = where === "tree" ? "tree" : `layers[${layer}]`;
  const byPath = new Map(actual.map((e) => [e.path, e]));
  const seen = new Set<string>();
  const push = (path: string, field: string, e: unknown, a: unknown, text: string) => {
    out.push({ where, ...(layer === undefined ? {} : { layer }), path, field, expected: e, actual: a, text });
  };
  for (const e of expected) {
    seen.add(e.path);
    const a = byPath.get(e.path);
    if (!a) {
      push(e.path, "entry", e, undefined, `${label} ${e.path}: missing (expected ${summary(e)})`);
      continue;
    }
    for (const f of ENTRY_FIELDS) {
      const ev = (e as unknown as Record<string, unknown>)[f];
      const av = (a as unknown as Record<string, unknown>)[f];
      if (!same(ev, av))
        push(e.path, f, ev, av, `${label} ${e.path}: ${f} expected ${show(ev)}, actual ${show(av)}`);
    }
  }
  for (const a of actual) {
    if (!seen.has(a.path)) {
      push(a.path, "entry", undefined, a, `${label} ${a.path}: unexpected ${summary(a)}`);
    }
  }
}

/** diffDescriptions lists every difference between two descriptions: config fields, each build layer, the tree. */
export function diffDescriptions(expected: ImageDescription, actual: ImageDescription): Difference[] {
  const out: Difference[] = [];
  diffValue("", expected.config, actual.config, out);
  if (expected.layers.length !== actual.layers.length) {
    const paths = (ls: EntryDescription[][]) => ls.map((l) => l.map((e) => e.path));
    out.push({
      where: "layers",
      field: "layers",
      expected: paths(expected.layers),
      actual: paths(actual.layers),
      text: `layers: expected ${expected.layers.length} layers ${show(paths(expected.layers))}, actual ${actual.layers.length} ${show(paths(actual.layers))}`,
    });
  } else {
    for (const [i, l] of expected.layers.entries()) diffEntries("layers", i, l, actual.layers[i]!, out);
  }
  diffEntries("tree", undefined, expected.tree, actual.tree, out);
  return out;
}

function pathMatches(pattern: string, path: string | undefined): boolean {
  if (path === undefined) return false;
  if (pattern.endsWith("/**")) {
    const dir = pattern.slice(0, -3);
    return path === dir || path.startsWith(`${dir}/`);
  }
  return pattern === path;
}

function fieldMatches(pattern: string, field: string): boolean {
  return field === pattern || field.startsWith(`${pattern}.`) || field.startsWith(`${pattern}[`);
}

/** explains tells whether a known difference covers `d`; one with neither path nor field covers nothing. */
export function explains(k: KnownDifference, d: Difference): boolean {
  if (k.path === undefined && k.field === undefined) return false;
  if (k.layer !== undefined && d.layer !== k.layer) return false;
  if (k.path !== undefined && !pathMatches(k.path, d.path)) return false;
  if (k.field !== undefined && !fieldMatches(k.field, d.field)) return false;
  if ("current" in k && !same(k.current, d.actual)) return false;
  return true;
}

/**
 * compareDescriptions returns the differences between `expected` (docker's
 * recording) and `actual` that no entry of `knownDifferences` explains; an
 * empty array means they match.
 */
export function compareDescriptions(
  expected: ImageDescription,
  actual: ImageDescription,
  knownDifferences: readonly KnownDifference[] = [],
): Difference[] {
  return diffDescriptions(expected, actual).filter((d) => !knownDifferences.some((k) => explains(k, d)));
}
