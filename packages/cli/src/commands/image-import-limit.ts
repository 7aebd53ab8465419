import { CliUsageError } from "../output.js";

/**
 * DEFAULT_IMPORT_MAX_SIZE is how many uncompressed tar bytes `image import`
 * accepts from a tarball by default: 64 GiB, the same bound the layer reader
 * puts on one entry. It is an absolute cap, not a compression ratio: a
 * tarball of a sparse disk image legitimately compresses 1000:1, while an
 * absolute cap bounds the disk, memory and time a gzip bomb can take
 * whatever its ratio. Raise it with `--max-size` or TSBUILD_IMPORT_MAX_SIZE.
 */
export const DEFAULT_IMPORT_MAX_SIZE = 64 * 1024 ** 3;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * parseByteSize reads a size as docker's flags write them: a whole number
 * with an optional unit (k, m, g, t as powers of 1024, KiB…TiB the same,
 * KB…TB powers of 1000), case-insensitive. `what` names the setting in the
 * usage error.
 */
export function parseByteSize(text: string, what: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new CliUsageError(
      `${what} must be a positive size such as 512MiB or 64g, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/** importMaxSize picks the tarball bound: the --max-size flag, else TSBUILD_IMPORT_MAX_SIZE, else the default. */
export function importMaxSize(flag: string | undefined, env: NodeJS.ProcessEnv): number {
  if (flag !== undefined) return parseByteSize(flag, "--max-size");
  const raw = env.TSBUILD_IMPORT_MAX_SIZE;
  if (raw !== undefined && raw !== "") return parseByteSize(raw, "TSBUILD_IMPORT_MAX_SIZE");
  return DEFAULT_IMPORT_MAX_SIZE;
}

/** formatByteSize writes a limit back the way a user would type it (64GiB, 1536KiB, 1000B). */
export function formatByteSize(n: number): string {
  for (const [unit, size] of [
    ["TiB", 1024 ** 4],
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}
