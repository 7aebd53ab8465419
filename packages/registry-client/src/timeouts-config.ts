import { RegistryError } from "./errors.js";
import { TIMEOUT_SETTINGS, type Timeouts } from "./transport/timeouts.js";

/** TimeoutSettingName is a setting's name: its flag without `--`, its config file key. */
export type TimeoutSettingName = (typeof TIMEOUT_SETTINGS)[keyof typeof TIMEOUT_SETTINGS];

/** TimeoutValues are settings as a user writes them (`"10s"`, `"1k"`, or numbers: seconds, bytes/s). */
export type TimeoutValues = Partial<Record<TimeoutSettingName, string | number>>;

const FIELDS: readonly { field: keyof Timeouts; name: TimeoutSettingName; kind: "duration" | "rate" }[] = [
  { field: "connectMs", name: TIMEOUT_SETTINGS.connect, kind: "duration" },
  { field: "headersMs", name: TIMEOUT_SETTINGS.headers, kind: "duration" },
  { field: "speedLimit", name: TIMEOUT_SETTINGS.speedLimit, kind: "rate" },
  { field: "speedTimeMs", name: TIMEOUT_SETTINGS.speedTime, kind: "duration" },
];

/** TIMEOUT_SETTING_NAMES lists the settings in the order the README gives them. */
export const TIMEOUT_SETTING_NAMES: readonly TimeoutSettingName[] = FIELDS.map((f) => f.name);

/** timeoutEnvName is a setting's environment variable (`TSBUILD_REGISTRY_CONNECT_TIMEOUT`). */
export function timeoutEnvName(name: TimeoutSettingName): string {
  return `TSBUILD_${name.toUpperCase().replace(/-/g, "_")}`;
}

function invalid(where: string, value: unknown, expected: string): RegistryError {
  return new RegistryError("CONFIG_INVALID", `${where}: ${JSON.stringify(value)} is not ${expected}`);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * parseDuration reads a duration in milliseconds: a number of seconds, or a
 * string with a unit (`500ms`, `10s`, `2m`; no unit means seconds). 0
 * turns the limit off.
 */
export function parseDuration(value: string | number, where: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0)
      throw invalid(where, value, "a duration (seconds, or 10s, 500ms, 2m)");
    return Math.round(value * 1000);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(value);
  if (!m) throw invalid(where, value, "a duration (seconds, or 10s, 500ms, 2m)");
  return Math.round(Number(m[1]) * (DURATION_UNITS[(m[2] ?? "s").toLowerCase()] as number));
}

const RATE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** parseRate reads bytes per second: a number, or with a binary suffix (`1k`, `1KiB`, `2M`). */
export function parseRate(value: string | number, where: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw invalid(where, value, "a rate in bytes/s (1024, 1k, 2M)");
    return Math.round(value);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?\s*$/i.exec(value);
  if (!m) throw invalid(where, value, "a rate in bytes/s (1024, 1k, 2M)");
  return Math.round(Number(m[1]) * (RATE_UNITS[(m[2] ?? "").toLowerCase()] as number));
}

/**
 * loadTimeouts reads the timeout settings from the config file's keys, the
 * environment (`TSBUILD_REGISTRY_…`) and flags, the later winning, and
 * returns only the ones set (the client fills in DEFAULT_TIMEOUTS).
 */
export function loadTimeouts(sources: {
  file: string;
  config: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  flags: TimeoutValues;
}): Partial<Timeouts> {
  const out: Partial<Timeouts> = {};
  for (const { field, name, kind } of FIELDS) {
    const parse = kind === "duration" ? parseDuration : parseRate;
    const flag = sources.flags[name];
    const envValue = sources.env[timeoutEnvName(name)];
    const fileValue = sources.config[name];
    if (flag !== undefined && flag !== "") out[field] = parse(flag, `--${name}`);
    else if (envValue) out[field] = parse(envValue, timeoutEnvName(name));
    else if (fileValue !== undefined) {
      if (typeof fileValue !== "number" && typeof fileValue !== "string") {
        throw invalid(`${sources.file}: "${name}"`, fileValue, "a number or a string");
      }
      out[field] = parse(fileValue, `${sources.file}: "${name}"`);
    }
  }
  return out;
}
