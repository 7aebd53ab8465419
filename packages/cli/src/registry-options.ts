import { createRegistryClient, type RegistryClient } from "@tsbuild/registry-client";
import { io } from "./output.js";

/** RegistryArgs are the global registry flags (see cli.ts). */
export interface RegistryArgs {
  "insecure-registry"?: string[];
  "registry-ca"?: string[];
  "registry-mirror"?: string[];
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
    overrides: env.TSBUILD_DEBUG ? { debug: (line) => io().stderr.write(`debug: ${line}\n`) } : {},
  });
}
