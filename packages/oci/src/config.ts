import { parseDigest } from "./digest.js";
import {
  describeJson,
  expectObject,
  fail,
  type JsonObject,
  optionalBoolean,
  optionalInteger,
  optionalObjectSet,
  optionalString,
  optionalStringArray,
  optionalStringMap,
  parseJsonBytes,
  requireString,
} from "./json-check.js";
import type { ContainerConfig, HealthConfig, HistoryEntry, ImageConfig } from "./types.js";

/**
 * config: the validating parser for image configuration blobs (OCI and
 * Docker, which share the format). It returns exactly the typed fields and
 * drops Docker's legacy members (`container_config`, `docker_version`,
 * `Hostname`, …), so configs written from it carry only what the OCI spec
 * defines. Go writes nil slices and maps as `null`; those read as absent.
 */

const CODE = "INVALID_CONFIG" as const;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** RFC3339_RE is the timestamp form Go's time.Time accepts in JSON (nanoseconds optional). */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function optionalTimestamp(obj: JsonObject, key: string, where: string): string | undefined {
  const v = optionalString(obj, key, where, CODE);
  if (v !== undefined && !RFC3339_RE.test(v)) {
    fail(
      CODE,
      `${where}.${key}`,
      `expected an RFC 3339 timestamp like 2024-01-02T03:04:05Z, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** nullableStringArray keeps an explicit `null` (Entrypoint: null resets the base image's entrypoint). */
function nullableStringArray(obj: JsonObject, key: string, where: string): string[] | null | undefined {
  if (obj[key] === null) return null;
  return optionalStringArray(obj, key, where, CODE);
}

function set<T extends object, K extends keyof T>(out: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}

function parseHealthcheck(v: unknown, where: string): HealthConfig {
  const obj = expectObject(v, where, CODE);
  const out: Mutable<HealthConfig> = {};
  set(out, "Test", optionalStringArray(obj, "Test", where, CODE));
  for (const key of ["Interval", "Timeout", "StartPeriod", "StartInterval"] as const) {
    set(out, key, optionalInteger(obj, key, where, CODE, 0));
  }
  set(out, "Retries", optionalInteger(obj, "Retries", where, CODE, 0));
  return out;
}

function parseContainerConfig(v: unknown, where: string): ContainerConfig {
  const obj = expectObject(v, where, CODE);
  const out: Mutable<ContainerConfig> = {};
  set(out, "User", optionalString(obj, "User", where, CODE));
  set(out, "ExposedPorts", optionalObjectSet(obj, "ExposedPorts", where, CODE));
  set(out, "Env", optionalStringArray(obj, "Env", where, CODE));
  set(out, "Entrypoint", nullableStringArray(obj, "Entrypoint", where));
  set(out, "Cmd", nullableStringArray(obj, "Cmd", where));
  set(out, "Volumes", optionalObjectSet(obj, "Volumes", where, CODE));
  set(out, "WorkingDir", optionalString(obj, "WorkingDir", where, CODE));
  set(out, "Labels", optionalStringMap(obj, "Labels", where, CODE));
  set(out, "StopSignal", optionalString(obj, "StopSignal", where, CODE));
  set(out, "ArgsEscaped", optionalBoolean(obj, "ArgsEscaped", where, CODE));
  if (obj.Healthcheck !== undefined && obj.Healthcheck !== null) {
    out.Healthcheck = parseHealthcheck(obj.Healthcheck, `${where}.Healthcheck`);
  }
  set(out, "OnBuild", nullableStringArray(obj, "OnBuild", where));
  set(out, "Shell", optionalStringArray(obj, "Shell", where, CODE));
  return out;
}

function parseHistory(v: unknown, where: string): HistoryEntry[] {
  if (!Array.isArray(v)) fail(CODE, where, `expected an array, got ${describeJson(v)}`);
  return v.map((item, i) => {
    const at = `${where}[${i}]`;
    const obj = expectObject(item, at, CODE);
    const out: Mutable<HistoryEntry> = {};
    set(out, "created", optionalTimestamp(obj, "created", at));
    set(out, "created_by", optionalString(obj, "created_by", at, CODE));
    set(out, "author", optionalString(obj, "author", at, CODE));
    set(out, "comment", optionalString(obj, "comment", at, CODE));
    set(out, "empty_layer", optionalBoolean(obj, "empty_layer", at, CODE));
    return out;
  });
}

function parseRootfs(v: unknown, where: string): ImageConfig["rootfs"] {
  if (v === undefined) fail(CODE, where, "required field is missing");
  const obj = expectObject(v, where, CODE);
  const type = requireString(obj, "type", where, CODE);
  if (type !== "layers") fail(CODE, `${where}.type`, `expected "layers", got ${JSON.stringify(type)}`);
  const ids = obj.diff_ids;
  if (ids === undefined) fail(CODE, `${where}.diff_ids`, "required field is missing");
  // Go writes an empty slice as null: an image with no layers.
  if (ids !== null && !Array.isArray(ids))
    fail(CODE, `${where}.diff_ids`, `expected an array, got ${describeJson(ids)}`);
  return {
    type: "layers",
    diff_ids: (ids ?? []).map((d: unknown, i: number) => parseDigest(d, `${where}.diff_ids[${i}]`)),
  };
}

/** imageConfigFromJson validates an already-decoded config object (for callers that hold JSON, not bytes). */
export function imageConfigFromJson(value: unknown, where = "config"): ImageConfig {
  const obj = expectObject(value, where, CODE);
  const architecture = requireString(obj, "architecture", where, CODE);
  const os = requireString(obj, "os", where, CODE);
  if (architecture === "") fail(CODE, `${where}.architecture`, "must not be empty");
  if (os === "") fail(CODE, `${where}.os`, "must not be empty");
  const out: Mutable<ImageConfig> = { architecture, os, rootfs: parseRootfs(obj.rootfs, `${where}.rootfs`) };
  set(out, "created", optionalTimestamp(obj, "created", where));
  set(out, "author", optionalString(obj, "author", where, CODE));
  set(out, "comment", optionalString(obj, "comment", where, CODE));
  set(out, "variant", optionalString(obj, "variant", where, CODE));
  set(out, "os.version", optionalString(obj, "os.version", where, CODE));
  set(out, "os.features", optionalStringArray(obj, "os.features", where, CODE));
  if (obj.config !== undefined && obj.config !== null)
    out.config = parseContainerConfig(obj.config, `${where}.config`);
  if (obj.history !== undefined && obj.history !== null)
    out.history = parseHistory(obj.history, `${where}.history`);
  return out;
}

/** parseImageConfig validates an image config blob (bytes as stored; the digest is over those bytes). */
export function parseImageConfig(bytes: Uint8Array | string): ImageConfig {
  return imageConfigFromJson(parseJsonBytes(bytes, "config"));
}
