import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { RegistryClient, type RegistryClientOptions } from "./client.js";
import { DockerCredentialStore } from "./credentials/docker.js";
import { RegistryError } from "./errors.js";
import { loadTimeouts, type TimeoutValues } from "./timeouts-config.js";
import { proxyFromEnv } from "./transport/proxy.js";
import type { Timeouts } from "./transport/timeouts.js";

/** RegistrySettings are the user's registry settings, merged from flags, environment and config file. */
export interface RegistrySettings {
  insecureRegistries: string[];
  mirrors: string[];
  caFiles: string[];
  certsDir?: string;
  /** timeouts holds the limits the user set (the client fills in DEFAULT_TIMEOUTS for the rest). */
  timeouts?: Partial<Timeouts>;
}

export interface LoadSettingsOptions {
  /** flags from the command line (`--insecure-registry`, `--registry-mirror`, `--registry-ca`). */
  flags?: Partial<Omit<RegistrySettings, "timeouts">>;
  /** timeoutFlags are `--registry-connect-timeout` and its kin as given (`"10s"`, `"1k"`). */
  timeoutFlags?: TimeoutValues;
  env?: NodeJS.ProcessEnv;
  /** configFile overrides `$TSBUILD_CONFIG`, else `$XDG_CONFIG_HOME/tsbuild/config.json`. */
  configFile?: string;
}

/** tsbuildConfigFile is where tsbuild's own settings live. */
export function tsbuildConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSBUILD_CONFIG) return env.TSBUILD_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "tsbuild", "config.json");
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function stringArray(file: string, config: Record<string, unknown>, key: string): string[] {
  const v = config[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw new RegistryError("CONFIG_INVALID", `${file}: "${key}" must be an array of strings`);
  }
  return v;
}

/**
 * loadRegistrySettings merges, in this order, the config file
 * (`{"insecure-registries": [...], "registry-mirrors": [...], "registry-ca": [...], "certs-dir": "..."}`,
 * docker daemon.json's names), the environment (`TSBUILD_INSECURE_REGISTRIES`,
 * `TSBUILD_REGISTRY_MIRRORS`, `TSBUILD_REGISTRY_CA`, comma-separated;
 * `TSBUILD_CERTS_DIR`) and flags. Lists add up; the certs dir is the last one set.
 * The timeouts (`registry-connect-timeout`, `registry-headers-timeout`,
 * `registry-speed-limit`, `registry-speed-time`: config keys, flags, and
 * `TSBUILD_REGISTRY_…` variables) are each the last one set.
 */
export function loadRegistrySettings(options: LoadSettingsOptions = {}): RegistrySettings {
  const env = options.env ?? process.env;
  const file = options.configFile ?? tsbuildConfigFile(env);
  let config: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new RegistryError("CONFIG_INVALID", `cannot read ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  if (text?.trim()) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
        throw new Error("not a JSON object");
      config = parsed as Record<string, unknown>;
    } catch (err) {
      throw new RegistryError(
        "CONFIG_INVALID",
        `${file} is not a valid JSON object: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  const certsDirFile = config["certs-dir"];
  if (certsDirFile !== undefined && typeof certsDirFile !== "string") {
    throw new RegistryError("CONFIG_INVALID", `${file}: "certs-dir" must be a string`);
  }
  const flags = options.flags ?? {};
  const certsDir = flags.certsDir ?? (env.TSBUILD_CERTS_DIR || undefined) ?? certsDirFile;
  const timeouts = loadTimeouts({ file, config, env, flags: options.timeoutFlags ?? {} });
  return {
    insecureRegistries: [
      ...stringArray(file, config, "insecure-registries"),
      ...list(env.TSBUILD_INSECURE_REGISTRIES),
      ...(flags.insecureRegistries ?? []),
    ],
    mirrors: [
      ...stringArray(file, config, "registry-mirrors"),
      ...list(env.TSBUILD_REGISTRY_MIRRORS),
      ...(flags.mirrors ?? []),
    ],
    caFiles: [
      ...stringArray(file, config, "registry-ca"),
      ...list(env.TSBUILD_REGISTRY_CA),
      ...(flags.caFiles ?? []),
    ],
    ...(certsDir ? { certsDir } : {}),
    ...(Object.keys(timeouts).length > 0 ? { timeouts } : {}),
  };
}

/**
 * createRegistryClient builds the client the CLI uses: settings from
 * flags/environment/config file and credentials from docker's config.json
 * and credential helpers. `overrides` win over both.
 */
export function createRegistryClient(
  options: LoadSettingsOptions & { overrides?: RegistryClientOptions } = {},
): RegistryClient {
  const settings = loadRegistrySettings(options);
  const env = options.env ?? process.env;
  return new RegistryClient({
    credentials: new DockerCredentialStore({ env }),
    insecureRegistries: settings.insecureRegistries,
    mirrors: settings.mirrors,
    caFiles: settings.caFiles,
    ...(settings.certsDir ? { certsDir: settings.certsDir } : {}),
    ...(settings.timeouts ? { timeouts: settings.timeouts } : {}),
    proxy: proxyFromEnv(env),
    ...(env.TSBUILD_DEBUG ? { debug: (line: string) => process.stderr.write(`debug: ${line}\n`) } : {}),
    ...options.overrides,
  });
}
