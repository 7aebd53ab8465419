import { OciError } from "./errors.js";

/**
 * canonicalJson serialises `value` so that equal data always gives equal bytes,
 * which makes manifest and config digests reproducible.
 *
 * The choice: object keys sorted by code point (UTF-8 byte order, the order Go
 * uses for map keys and the OLPC "canonical JSON" the OCI spec mentions), no
 * insignificant whitespace, strings escaped as JSON.stringify does (no HTML
 * escaping of `<`, `>`, `&` as Go's encoder adds: both forms are valid JSON and
 * we only need our own output to be stable). We do not mimic Go's struct field
 * order: it is a property of Go type declarations, not of the data, and sorted
 * keys are stable no matter how a value was assembled in TypeScript.
 *
 * `undefined` members are omitted (as JSON.stringify does); non-finite numbers,
 * bigints, functions, symbols and cycles throw INVALID_JSON instead of silently
 * becoming `null` or crashing later.
 */
export function canonicalJson(value: unknown): Buffer {
  return Buffer.from(canonicalJsonString(value), "utf8");
}

/** canonicalJsonString is canonicalJson as a string (for logging and tests). */
export function canonicalJsonString(value: unknown): string {
  const parts: string[] = [];
  write(value, "$", parts, new Set());
  return parts.join("");
}

function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function write(value: unknown, path: string, out: string[], seen: Set<object>): void {
  switch (typeof value) {
    case "string":
      out.push(JSON.stringify(value));
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new OciError("INVALID_JSON", `cannot encode non-finite number ${value}`, { where: path });
      }
      out.push(JSON.stringify(value));
      return;
    case "object":
      break;
    default:
      throw new OciError("INVALID_JSON", `cannot encode a ${typeof value}`, { where: path });
  }
  if (value === null) {
    out.push("null");
    return;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    // Dates and similar values serialise as JSON.stringify would serialise them.
    write(toJSON.call(value), path, out, seen);
    return;
  }
  if (seen.has(value))
    throw new OciError("INVALID_JSON", "cannot encode a cyclic structure", { where: path });
  seen.add(value);
  if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      // Arrays keep their slots: undefined becomes null, as JSON.stringify does.
      write(item === undefined ? null : item, `${path}[${i}]`, out, seen);
    });
    out.push("]");
  } else {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort(compareCodePoints);
    out.push("{");
    keys.forEach((key, i) => {
      if (i > 0) out.push(",");
      out.push(JSON.stringify(key), ":");
      write(obj[key], `${path}.${key}`, out, seen);
    });
    out.push("}");
  }
  seen.delete(value);
}
