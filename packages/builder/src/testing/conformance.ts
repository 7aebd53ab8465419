import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * conformanceDir finds the shared conformance corpus at test run time (it is never copied into the repo):
 * `$TSBUILD_CONFORMANCE`, else `<repo>/../shared/conformance`, else `/work/shared/conformance`.
 * Tests of the parser, shell lexer, .dockerignore and lint rules all share it.
 */
export function conformanceDir(): string {
  const fromEnv = process.env.TSBUILD_CONFORMANCE;
  if (fromEnv) {
    // an explicit setting is never silently replaced by another corpus
    if (!existsSync(join(fromEnv, "README.md")))
      throw new Error(`TSBUILD_CONFORMANCE=${fromEnv} holds no corpus`);
    return fromEnv;
  }
  const candidates: string[] = [];
  // this file: <repo>/packages/builder/src/testing/
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
  candidates.push(join(repo, "..", "shared", "conformance"), "/work/shared/conformance");
  for (const c of candidates) if (existsSync(join(c, "README.md"))) return c;
  throw new Error(`conformance corpus not found (tried ${candidates.join(", ")}); set TSBUILD_CONFORMANCE`);
}

/** conformancePath joins parts onto the corpus directory. */
export function conformancePath(...parts: string[]): string {
  return join(conformanceDir(), ...parts);
}

/** readConformanceBytes reads a corpus file byte-exactly. */
export function readConformanceBytes(...parts: string[]): Buffer {
  return readFileSync(conformancePath(...parts));
}

/** readConformanceText reads a corpus file as UTF-8 text. */
export function readConformanceText(...parts: string[]): string {
  return readFileSync(conformancePath(...parts), "utf8");
}

/** readConformanceJson reads one of the JSON case tables (parser-units.json, dockerignore.json, …). */
export function readConformanceJson<T = ConformanceCase[]>(...parts: string[]): T {
  return JSON.parse(readConformanceText(...parts)) as T;
}

/** listConformance lists entries of a corpus directory, sorted, optionally filtered by suffix. */
export function listConformance(dir: string, suffix = ""): string[] {
  return readdirSync(conformancePath(dir))
    .filter((n) => n.endsWith(suffix))
    .sort();
}

/** ConformanceCase is the common shape of a JSON case: `{id, source, kind, …inputs, expected}`. */
export interface ConformanceCase {
  id: string;
  source: string;
  kind: string;
  input?: unknown;
  expected?: unknown;
  note?: string;
  [key: string]: unknown;
}
