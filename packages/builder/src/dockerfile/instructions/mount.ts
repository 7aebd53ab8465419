import { ParseProblem } from "../parser/problem.js";
import { suggest } from "./context.js";
import type { CacheSharing, MountType, RunMount } from "./types.js";

const MOUNT_TYPES: readonly MountType[] = ["bind", "cache", "tmpfs", "secret", "ssh"];
const SHARING: readonly CacheSharing[] = ["shared", "private", "locked"];
const MOUNT_KEYS = [
  "type",
  "from",
  "source",
  "target",
  "readonly",
  "id",
  "sharing",
  "required",
  "mode",
  "uid",
  "gid",
  "src",
  "dst",
  "destination",
  "ro",
  "rw",
  "readwrite",
  "size",
  "env",
];

/** MountOptions let the planner re-parse a mount after expanding `$VAR` in its values. */
export interface MountOptions {
  /** expand replaces variables in one value; without it, values holding `$` are kept unvalidated. */
  expand?: (value: string) => string;
}

/** splitCsv splits a `--mount` value into fields like Go's encoding/csv (one record, `"` quoting). */
export function splitCsv(value: string): string[] {
  const fields: string[] = [];
  let i = 0;
  const n = value.length;
  for (;;) {
    let field = "";
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= n)
          throw new ParseProblem("INVALID_FLAG_VALUE", `extraneous or missing " in quoted-field: ${value}`);
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += value[i++];
      }
      if (i < n && value[i] !== ",") {
        throw new ParseProblem("INVALID_FLAG_VALUE", `extraneous or missing " in quoted-field: ${value}`);
      }
    } else {
      let j = value.indexOf(",", i);
      if (j < 0) j = n;
      field = value.slice(i, j);
      if (field.includes('"'))
        throw new ParseProblem("INVALID_FLAG_VALUE", `bare " in non-quoted-field: ${value}`);
      i = j;
    }
    fields.push(field);
    if (i >= n) return fields;
    i++; // the comma
  }
}

const PARSE_BOOL: Record<string, boolean> = {
  "1": true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  "0": false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** parseGoBool is Go's strconv.ParseBool. */
export function parseGoBool(v: string): boolean | undefined {
  return Object.hasOwn(PARSE_BOOL, v) ? PARSE_BOOL[v] : undefined;
}

const UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** parseRamSize is go-units RAMInBytes: `64m`, `1.5g`, `100kb`, `512` (binary multipliers). */
export function parseRamSize(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(v);
  if (!m) return undefined;
  const num = Number.parseFloat(m[1]!);
  if (!Number.isFinite(num)) return undefined;
  return Math.floor(num * UNITS[(m[2] ?? "").toLowerCase()]!);
}

function unexpected(key: string, type: MountType): ParseProblem {
  return new ParseProblem("INVALID_FLAG_VALUE", `unexpected key '${key}' for mount type '${type}'`, key);
}

function parseUint(v: string, radix: 8 | 10, what: string): number {
  const ok = radix === 8 ? /^[0-7]+$/.test(v) : /^[0-9]+$/.test(v);
  const n = ok ? Number.parseInt(v, radix) : Number.NaN;
  if (!ok || n > 0xffffffff)
    throw new ParseProblem("INVALID_FLAG_VALUE", `invalid value ${v} for ${what}`, v);
  return n;
}

/**
 * parseMount parses one `--mount` value (`type=cache,target=/root/.cache,sharing=locked`) with the rules
 * of BuildKit's commands_runmount.go. It throws ParseProblem (the caller adds the position).
 */
export function parseMount(raw: string, options: MountOptions = {}): RunMount {
  const m: RunMount = { type: "bind", readOnly: false, required: false, raw, needsExpansion: false };
  let roAuto = true;
  const fields = splitCsv(raw);
  // the type decides which keys are allowed, wherever it is written
  for (const f of fields) {
    const eq = f.indexOf("=");
    if (eq >= 0 && f.slice(0, eq).toLowerCase() === "type") {
      let t = f.slice(eq + 1);
      if (options.expand) t = options.expand(t);
      const lower = t.toLowerCase();
      if (!(MOUNT_TYPES as readonly string[]).includes(lower)) {
        throw new ParseProblem(
          "INVALID_FLAG_VALUE",
          `unsupported mount type ${JSON.stringify(t)}${suggest(t, MOUNT_TYPES)}`,
          t,
        );
      }
      m.type = lower as MountType;
    }
  }
  for (const field of fields) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === "readonly" || key === "ro") {
        m.readOnly = true;
        roAuto = false;
        continue;
      }
      if (key === "readwrite" || key === "rw") {
        m.readOnly = false;
        roAuto = false;
        continue;
      }
      if (key === "required") {
        if (m.type !== "secret" && m.type !== "ssh") throw unexpected(key, m.type);
        m.required = true;
        continue;
      }
      throw new ParseProblem(
        "INVALID_FLAG_VALUE",
        `invalid field '${field}' must be a key=value pair`,
        field,
      );
    }
    let value = field.slice(eq + 1);
    if (options.expand) value = options.expand(value);
    const unresolved = !options.expand && value.includes("$");
    if (unresolved) m.needsExpansion = true;
    switch (key) {
      case "type":
        break;
      case "from":
        if (!options.expand && /\$./.test(value)) {
          throw new ParseProblem(
            "INVALID_FLAG_VALUE",
            `'${key}' doesn't support variable expansion, define alias stage instead`,
            value,
          );
        }
        if (m.type === "secret")
          throw new ParseProblem("INVALID_FLAG_VALUE", "secret mount should not have a from", field);
        m.from = value;
        break;
      case "source":
      case "src":
        m.source = value;
        break;
      case "target":
      case "dst":
      case "destination":
        m.target = value;
        break;
      case "readonly":
      case "ro":
      case "readwrite":
      case "rw": {
        if (unresolved) break;
        const b = parseGoBool(value);
        if (b === undefined)
          throw new ParseProblem("INVALID_FLAG_VALUE", `invalid value for ${key}: ${value}`, value);
        m.readOnly = key === "readonly" || key === "ro" ? b : !b;
        roAuto = false;
        break;
      }
      case "required": {
        if (m.type !== "secret" && m.type !== "ssh") throw unexpected(key, m.type);
        if (unresolved) break;
        const b = parseGoBool(value);
        if (b === undefined)
          throw new ParseProblem("INVALID_FLAG_VALUE", `invalid value for ${key}: ${value}`, value);
        m.required = b;
        break;
      }
      case "size": {
        if (m.type !== "tmpfs") throw unexpected(key, m.type);
        if (unresolved) break;
        const size = parseRamSize(value);
        if (size === undefined)
          throw new ParseProblem("INVALID_FLAG_VALUE", `invalid value for size: ${value}`, value);
        m.size = size;
        break;
      }
      case "id":
        m.id = value;
        break;
      case "sharing": {
        if (m.type === "secret") {
          throw new ParseProblem("INVALID_FLAG_VALUE", "secret mount should not define sharing", field);
        }
        if (m.type !== "cache") {
          throw new ParseProblem(
            "INVALID_FLAG_VALUE",
            `invalid cache sharing set for ${m.type} mount`,
            field,
          );
        }
        if (unresolved) break;
        const s = value.toLowerCase();
        if (!(SHARING as readonly string[]).includes(s)) {
          throw new ParseProblem(
            "INVALID_FLAG_VALUE",
            `unsupported sharing value ${JSON.stringify(value)}${suggest(value, SHARING)}`,
            value,
          );
        }
        m.sharing = s as CacheSharing;
        break;
      }
      case "mode":
        if (!unresolved) m.mode = parseUint(value, 8, "mode");
        break;
      case "uid":
        if (!unresolved) m.uid = parseUint(value, 10, "uid");
        break;
      case "gid":
        if (!unresolved) m.gid = parseUint(value, 10, "gid");
        break;
      case "env":
        if (m.type !== "secret") throw unexpected(key, m.type);
        m.env = value;
        break;
      default:
        throw new ParseProblem(
          "INVALID_FLAG_VALUE",
          `unexpected key '${key}' in '${field}'${suggest(key, MOUNT_KEYS)}`,
          field,
        );
    }
  }
  const fileInfoAllowed = m.type === "secret" || m.type === "ssh" || m.type === "cache";
  if (!fileInfoAllowed) {
    for (const k of ["mode", "uid", "gid"] as const) {
      if (m[k] !== undefined || fields.some((f) => f.toLowerCase().startsWith(`${k}=`))) {
        throw new ParseProblem("INVALID_FLAG_VALUE", `${k} not allowed for "${m.type}" type mounts`, `${k}=`);
      }
    }
  }
  if (roAuto) m.readOnly = !(m.type === "cache" || m.type === "tmpfs");
  if (m.type === "cache" && m.sharing === undefined) m.sharing = "shared";
  if (m.type === "secret") {
    if (m.source === undefined && m.target === undefined && m.id === undefined) {
      throw new ParseProblem(
        "INVALID_FLAG_VALUE",
        "invalid secret mount. one of source, target required",
        raw,
      );
    }
    if (m.source !== undefined && m.id !== undefined && m.source !== "" && m.id !== "") {
      throw new ParseProblem("INVALID_FLAG_VALUE", "both source and id can't be set", raw);
    }
  }
  return m;
}
