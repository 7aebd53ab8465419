import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** REPO_ROOT is the workspace root, four levels above this file (packages/builder/src/__fixtures__). */
const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");

/**
 * conformanceDir locates the shared conformance corpus, which tests read at
 * run time (it is never copied into the repo): $TSBUILD_CONFORMANCE, else
 * <repo>/../shared/conformance, else /work/shared/conformance. It throws, so a
 * missing corpus fails the suite loudly instead of skipping it.
 */
export function conformanceDir(): string {
  const candidates = [
    process.env.TSBUILD_CONFORMANCE,
    join(REPO_ROOT, "..", "shared", "conformance"),
    "/work/shared/conformance",
  ];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, "README.md"))) return dir;
  }
  throw new Error(
    `conformance corpus not found (tried ${candidates.filter(Boolean).join(", ")}); set TSBUILD_CONFORMANCE`,
  );
}

/** conformancePath joins a path inside the corpus. */
export function conformancePath(...parts: string[]): string {
  return join(conformanceDir(), ...parts);
}

/** readConformanceText reads a corpus file as UTF-8. */
export function readConformanceText(...parts: string[]): string {
  return readFileSync(conformancePath(...parts), "utf8");
}

/** readConformanceJson reads and parses a JSON corpus file. */
export function readConformanceJson<T>(...parts: string[]): T {
  return JSON.parse(readConformanceText(...parts)) as T;
}
