import { createRegistryClient, type RegistryClient, TIMEOUT_SETTING_NAMES } from "@tsbuild/registry-client";
import { onInterrupt } from "./interrupt.js";
import { io } from "./output.js";

/** RegistryArgs are the global registry flags (see cli.ts). */
export interface RegistryArgs {
  "insecure-registry"?: string[];
  "registry-ca"?: string[];
  "registry-mirror"?: string[];
  "registry-connect-timeout"?: string;
  "registry-headers-timeout"?: string;
  "registry-speed-limit"?: string;
  "registry-speed-time"?: string;
}

/**
 * registryClient builds the RegistryClient a command uses: the global
 * registry flags, $TSBUILD_* variables and $XDG_CONFIG_HOME/tsbuild/config.json
 * for transport settings, and docker's config.json / credential helpers for
 * credentials. Close it when done.
 */
export function registryClient(argv: RegistryArgs): RegistryClient {
  const env = io().env;
  return createRegistryClient({
    env,
    flags: {
      insecureRegistries: argv["insecure-registry"] ?? [],
      caFiles: argv["registry-ca"] ?? [],
      mirrors: argv["registry-mirror"] ?? [],
    },
    timeoutFlags: Object.fromEntries(TIMEOUT_SETTING_NAMES.map((name) => [name, argv[name]])),
    overrides: env.TSBUILD_DEBUG ? { debug: (line) => io().stderr.write(`debug: ${line}\n`) } : {},
  });
}

/**
 * withRegistryClient runs `fn` with a client from the flags and a signal that
 * Ctrl-C aborts (so a pull deletes what it wrote), and closes both after.
 */
export async function withRegistryClient<T>(
  argv: RegistryArgs,
  fn: (client: RegistryClient, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const client = registryClient(argv);
  const interrupt = onInterrupt();
  try {
    return await fn(client, interrupt.signal);
  } finally {
    interrupt.dispose();
    await client.close();
  }
}
