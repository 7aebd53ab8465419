import type { Options } from "yargs";

// One value per flag for the repeatable ones, so a repeated flag does not swallow the positional arguments after it.
const repeatable = { type: "string", array: true, nargs: 1, global: true } as const;

/**
 * GLOBAL_OPTIONS are accepted by every command (yargs `global`); help lists
 * them on the top-level page only, as docker's "Global Options".
 */
export const GLOBAL_OPTIONS: Readonly<Record<string, Options>> = {
  root: {
    type: "string",
    describe: "Local image store (default $TSBUILD_ROOT, else $XDG_DATA_HOME/tsbuild)",
    global: true,
  },
  "insecure-registry": {
    ...repeatable,
    describe: "Allow plain HTTP or unverified TLS for HOST[:PORT] (also $TSBUILD_INSECURE_REGISTRIES)",
  },
  "registry-ca": {
    ...repeatable,
    describe: "Trust this PEM CA bundle for registries (also /etc/docker/certs.d/HOST/ca.crt)",
  },
  "registry-mirror": {
    ...repeatable,
    describe: "Pull Docker Hub images through this mirror URL first (also $TSBUILD_REGISTRY_MIRRORS)",
  },
  "registry-connect-timeout": {
    type: "string",
    describe: "Give up connecting to a registry after this long (default 10s; 0: never)",
    global: true,
  },
  "registry-headers-timeout": {
    type: "string",
    describe: "Give up on a registry that sends no response this long after a request (default 30s)",
    global: true,
  },
  "registry-speed-limit": {
    type: "string",
    describe: "Fail a transfer slower than this many bytes/s for --registry-speed-time (default 1k)",
    global: true,
  },
  "registry-speed-time": {
    type: "string",
    describe: "The window --registry-speed-limit is measured over (default 30s; 0: no check)",
    global: true,
  },
};

/** VERSION_OPTION is the top-level `-v, --version` (not global: `run -v` mounts a volume). */
export const VERSION_OPTION: Options = {
  alias: "v",
  type: "boolean",
  describe: "Print version information and quit",
};

/** GLOBAL_VALUE_FLAGS are the global flags that take a value (skipped when finding the command words). */
export const GLOBAL_VALUE_FLAGS: ReadonlySet<string> = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, o]) => o.type !== "boolean")
    .map(([name]) => `--${name}`),
);
