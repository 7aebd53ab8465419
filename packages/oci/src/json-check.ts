import { type Digest, parseDigest } from "./digest.js";
import { OciError, type OciErrorCode } from "./errors.js";

/**
 * json-check holds the small, internal helpers every validating parser uses,
 * so each error names the JSON path (`manifest.layers[2].digest`) and says
 * what was expected and what was found.
 */

export type JsonObject = Record<string, unknown>;

/** describeJson names a JSON value's type for error messages ("a string", "null", "an array"). */
export function describeJson(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
  if (typeof v === "number") return `a number (${v})`;
  return `a ${typeof v}`;
}

/** parseJsonBytes decodes UTF-8 bytes as JSON, throwing INVALID_JSON with the position on failure. */
export function parseJsonBytes(bytes: Uint8Array | string, what: string): unknown {
  const text =
    typeof bytes === "string"
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8");
  if (text.trim() === "") throw new OciError("INVALID_JSON", `${what} is empty`, { where: what });
  try {
    return JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new OciError("INVALID_JSON", `${what} is not valid JSON: ${detail}`, { where: what, cause: err });
  }
}

export function fail(code: OciErrorCode, where: string, message: string): never {
  throw new OciError(code, message, { where });
}

export function expectObject(v: unknown, where: string, code: OciErrorCode): JsonObject {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    fail(code, where, `expected an object, got ${describeJson(v)}`);
  }
  return v as JsonObject;
}

export function requireString(obj: JsonObject, key: string, where: string, code: OciErrorCode): string {
  const v = obj[key];
  if (v === undefined) fail(code, `${where}.${key}`, "required field is missing");
  if (typeof v !== "string") fail(code, `${where}.${key}`, `expected a string, got ${describeJson(v)}`);
  return v;
}

export function optionalString(
  obj: JsonObject,
  key: string,
  where: string,
  code: OciErrorCode,
): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") fail(code, `${where}.${key}`, `expected a string, got ${describeJson(v)}`);
  return v;
}

export function optionalBoolean(
  obj: JsonObject,
  key: string,
  where: string,
  code: OciErrorCode,
): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") fail(code, `${where}.${key}`, `expected true or false, got ${describeJson(v)}`);
  return v;
}

/** optionalInteger reads a safe integer ≥ `min`. */
export function optionalInteger(
  obj: JsonObject,
  key: string,
  where: string,
  code: OciErrorCode,
  min = Number.MIN_SAFE_INTEGER,
): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    fail(code, `${where}.${key}`, `expected an integer, got ${describeJson(v)}`);
  }
  if (v < min) fail(code, `${where}.${key}`, `must be at least ${min}, got ${v}`);
  return v;
}

/** optionalStringArray reads an array of strings; `null` is accepted (Go writes nil slices as null) and read as absent. */
export function optionalStringArray(
  obj: JsonObject,
  key: string,
  where: string,
  code: OciErrorCode,
): string[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v))
    fail(code, `${where}.${key}`, `expected an array of strings, got ${describeJson(v)}`);
  v.forEach((item, i) => {
    if (typeof item !== "string")
      fail(code, `${where}.${key}[${i}]`, `expected a string, got ${describeJson(item)}`);
  });
  return v as string[];
}

/** optionalStringMap reads `{ "k": "v" }` (annotations, labels); `null` is read as absent. */
export function optionalStringMap(
  obj: JsonObject,
  key: string,
  where: string,
  code: OciErrorCode,
): Record<string, string> | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const map = expectObject(v, `${where}.${key}`, code);
  for (const [k, item] of Object.entries(map)) {
    if (typeof item !== "string") {
      fail(code, `${where}.${key}[${JSON.stringify(k)}]`, `expected a string, got ${describeJson(item)}`);
    }
  }
  return map as Record<string, string>;
}

/** optionalObjectSet reads Docker's `{ "80/tcp": {} }` sets (ExposedPorts, Volumes); `null` is read as absent. */
export function optionalObjectSet(
  obj: JsonObject,
  key: string,
  where: string,
  code: OciErrorCode,
): Record<string, object> | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const map = expectObject(v, `${where}.${key}`, code);
  const out: Record<string, object> = {};
  for (const [k, item] of Object.entries(map)) {
    // Some writers emit null for the empty struct; normalise it to {}.
    if (item === null) out[k] = {};
    else out[k] = expectObject(item, `${where}.${key}[${JSON.stringify(k)}]`, code);
  }
  return out;
}

export function requireDigest(obj: JsonObject, key: string, where: string): Digest {
  const v = obj[key];
  if (v === undefined) fail("INVALID_DIGEST", `${where}.${key}`, "required field is missing");
  return parseDigest(v, `${where}.${key}`);
}

/** MEDIA_TYPE_RE is RFC 6838's `type/subtype` with optional parameters, loosely. */
const MEDIA_TYPE_RE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;.*)?$/;

export function isMediaTypeSyntax(s: string): boolean {
  return MEDIA_TYPE_RE.test(s);
}
