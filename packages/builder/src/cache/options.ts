import { BuildError } from "../errors.js";
import type { CacheExport, CacheImport } from "../exec/types.js";

/** fields reads `k=v,k=v` (a bare value is `ref=VALUE`, as buildx reads `--cache-from REF`). */
function fields(flag: string, value: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!value.includes("=")) {
    out.set("type", "registry");
    out.set("ref", value);
    return out;
  }
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) throw invalid(flag, value, `${JSON.stringify(part)} is not KEY=VALUE`);
    out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return out;
}

function invalid(flag: string, value: string, why: string): BuildError {
  return new BuildError("INVALID_CACHE_OPTION", `invalid value "${value}" for "${flag}": ${why}`);
}

function need(flag: string, value: string, f: Map<string, string>, name: string): string {
  const v = f.get(name);
  if (!v) throw invalid(flag, value, `type=${f.get("type")} needs ${name}=…`);
  return v;
}

/** parseCacheFrom reads one `--cache-from` value: `type=registry,ref=R`, `type=local,src=DIR[,tag=T]` or `R`. */
export function parseCacheFrom(value: string): CacheImport {
  const flag = "--cache-from";
  const f = fields(flag, value);
  const type = f.get("type") ?? "registry";
  if (type === "registry") return { type, ref: need(flag, value, f, "ref") };
  if (type === "local") {
    const tag = f.get("tag");
    return { type, src: need(flag, value, f, "src"), ...(tag ? { tag } : {}) };
  }
  throw invalid(flag, value, `unknown type ${JSON.stringify(type)} (one of registry, local)`);
}

/** parseCacheTo reads one `--cache-to` value: `type=registry,ref=R[,mode=min|max]`, `type=local,dest=DIR`, `type=inline`. */
export function parseCacheTo(value: string): CacheExport {
  const flag = "--cache-to";
  const f = fields(flag, value);
  const type = f.get("type") ?? "registry";
  const m = f.get("mode");
  if (m !== undefined && m !== "min" && m !== "max")
    throw invalid(flag, value, `mode must be min or max, not ${JSON.stringify(m)}`);
  const mode = m === undefined ? {} : { mode: m as "min" | "max" };
  if (type === "registry") return { type, ref: need(flag, value, f, "ref"), ...mode };
  if (type === "local") {
    const tag = f.get("tag");
    return { type, dest: need(flag, value, f, "dest"), ...(tag ? { tag } : {}), ...mode };
  }
  if (type === "inline") return { type };
  throw invalid(flag, value, `unknown type ${JSON.stringify(type)} (one of registry, local, inline)`);
}
