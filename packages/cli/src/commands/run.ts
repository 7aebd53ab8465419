import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { constants } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { isatty } from "node:tty";
import {
  isBuildError,
  type PortForward,
  type RunImageOptions,
  type RunMount,
  runImage,
} from "@tsbuild/builder";
import { blobFetcher } from "@tsbuild/registry-client";
import type { Argv, CommandModule } from "yargs";
import { CliUsageError, io, reportError } from "../output.js";
import { type RegistryArgs, registryClient } from "../registry-options.js";
import { daemonNotFound, type StoreArgs, withStore } from "./image-store.js";

interface RunArgs extends StoreArgs, RegistryArgs {
  _: (string | number)[];
  image: string;
  command?: string[];
  rm?: boolean;
  env?: string[];
  "env-file"?: string[];
  entrypoint?: string;
  workdir?: string;
  user?: string;
  volume?: string[];
  publish?: string[];
  network?: string;
  interactive?: boolean;
  tty?: boolean;
  name?: string;
  runtime?: string;
}

/** EXIT_ERROR is docker run's status when the failure is its own, not the container's. */
const EXIT_ERROR = 125;
/** FORWARDED are the signals passed on to the container (docker's sig-proxy; SIGWINCH too with -t). */
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * parsePublish reads docker's `-p [IP:]HOST:CONTAINER[/tcp|/udp]`. A bare
 * CONTAINER port (docker picks a free host port) is not supported: name the
 * host port.
 */
export function parsePublish(spec: string): PortForward {
  const [ports = "", proto = "tcp"] = spec.split("/");
  if (proto !== "tcp" && proto !== "udp") throw new CliUsageError(`invalid proto: ${proto} in -p ${spec}`);
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(\d+):(\d+)$/.exec(ports);
  if (!m) {
    throw new CliUsageError(
      `invalid publish spec ${JSON.stringify(spec)}: give [IP:]HOST_PORT:CONTAINER_PORT[/PROTO], e.g. 8080:80`,
    );
  }
  const port = (s: string) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new CliUsageError(`invalid port ${s} in -p ${spec}`);
    return n;
  };
  return {
    ...(m[1] && { hostIp: m[1].replace(/^\[|\]$/g, "") }),
    hostPort: port(m[2]!),
    containerPort: port(m[3]!),
    protocol: proto,
  };
}

/** parseVolume reads docker's `-v HOST:CONTAINER[:ro|:rw]` for a host path (named volumes do not exist here). */
export function parseVolume(spec: string, cwd: string): RunMount {
  const parts = spec.split(":");
  const [host = "", target = "", mode] = parts;
  if (parts.length < 2 || parts.length > 3 || host === "" || target === "")
    throw new CliUsageError(
      `invalid volume spec ${JSON.stringify(spec)}: give HOST_PATH:CONTAINER_PATH[:ro]`,
    );
  if (!host.startsWith("/") && !host.startsWith(".")) {
    throw new CliUsageError(
      `invalid volume spec ${JSON.stringify(spec)}: tsbuild has no named volumes; give a host path (absolute, or starting with .)`,
    );
  }
  if (!isAbsolute(target))
    throw new CliUsageError(`invalid volume spec ${JSON.stringify(spec)}: ${target} is not an absolute path`);
  const options = (mode ?? "").split(",").filter(Boolean);
  for (const o of options) {
    if (o !== "ro" && o !== "rw") throw new CliUsageError(`invalid mode: ${o} in -v ${spec} (ro or rw)`);
  }
  return {
    type: "host",
    source: resolve(cwd, host),
    target,
    ...(options.includes("ro") && { readonly: true }),
  };
}

/** parseEnvFile reads docker's --env-file: KEY=VALUE lines, KEY alone for the host's value, # comments. */
export function parseEnvFile(text: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    out.push(...envValue(line, hostEnv));
  }
  return out;
}

/** envValue is one -e: KEY=VALUE as given; KEY alone takes the host's value (nothing when the host has none). */
function envValue(e: string, hostEnv: NodeJS.ProcessEnv): string[] {
  if (e.includes("=")) {
    if (e.startsWith("=")) throw new CliUsageError(`invalid environment variable: ${e}`);
    return [e];
  }
  const v = hostEnv[e];
  return v === undefined ? [] : [`${e}=${v}`];
}

/** fdOf is a stream's file descriptor when it is one of this process's own (so the container gets it directly). */
function fdOf(stream: NodeJS.ReadableStream | NodeJS.WritableStream): number | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  return typeof fd === "number" ? fd : undefined;
}

export const runCommand: CommandModule<StoreArgs, RunArgs> = {
  command: "run <image> [command..]",
  describe: "Create and run a new container from an image",
  builder: (y: Argv<StoreArgs>) =>
    y
      .positional("image", { type: "string", describe: "IMAGE (name or ID)", demandOption: true })
      .positional("command", { type: "string", array: true, describe: "COMMAND [ARG...]" })
      .option("rm", {
        type: "boolean",
        describe: "Remove the container when it exits (always: tsbuild keeps no stopped containers)",
      })
      .option("env", {
        alias: "e",
        type: "string",
        array: true,
        nargs: 1,
        describe: "Set environment variables",
      })
      .option("env-file", {
        type: "string",
        array: true,
        nargs: 1,
        describe: "Read in a file of environment variables",
      })
      .option("entrypoint", { type: "string", describe: "Overwrite the default ENTRYPOINT of the image" })
      .option("workdir", { alias: "w", type: "string", describe: "Working directory inside the container" })
      .option("user", {
        alias: "u",
        type: "string",
        describe: "Username or UID (format: <name|uid>[:<group|gid>])",
      })
      .option("volume", {
        alias: "v",
        type: "string",
        array: true,
        nargs: 1,
        describe: "Bind mount a host path: HOST_PATH:CONTAINER_PATH[:ro]",
      })
      .option("publish", {
        alias: "p",
        type: "string",
        array: true,
        nargs: 1,
        describe:
          "Publish a container's port to the host: [IP:]HOST_PORT:CONTAINER_PORT[/PROTO] (slirp4netns)",
      })
      .option("network", {
        type: "string",
        describe:
          "host (default), none (loopback only), or private (own namespace via slirp4netns; default with -p)",
      })
      .option("interactive", {
        alias: "i",
        type: "boolean",
        describe: "Keep STDIN open and pass it to the container",
      })
      .option("tty", {
        alias: "t",
        type: "boolean",
        describe: "Allocate a pseudo-TTY (stdin must be a terminal)",
      })
      .option("name", { type: "string", describe: "Assign a name to the container (runc's container id)" })
      .option("runtime", { type: "string", describe: "OCI runtime binary (default runc from PATH)" })
      .example("tsbuild run --rm -p 8080:80 custom-nginx:packaged", "serve the image's nginx on port 8080")
      .example("tsbuild run -it busybox sh", "an interactive shell") as Argv<RunArgs>,
  handler: async (argv) => {
    const { env: hostEnv, stdin, stdout, stderr } = io();
    const forwarded = argv.tty ? [...FORWARDED, "SIGWINCH" as const] : FORWARDED;
    let forward: ((sig: NodeJS.Signals) => void) | undefined;
    let received: NodeJS.Signals | undefined;
    const abort = new AbortController();
    let stops = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      // A process that ignores SIGINT/SIGTERM (pid 1 of its namespace without a handler) is killed at the third.
      if (forward && (sig === "SIGINT" || sig === "SIGTERM") && ++stops >= 3) forward("SIGKILL");
      else if (forward) forward(sig);
      else if (sig !== "SIGWINCH") {
        // Before the container starts: stop setting it up (everything made so far is removed).
        received = sig;
        abort.abort(new Error(sig === "SIGINT" ? "interrupted" : "terminated"));
      }
    };
    for (const s of forwarded) process.on(s, onSignal);
    try {
      // The command after IMAGE comes after the `--` that cli.ts put there (run-argv.ts).
      const command = [...(argv.command ?? []), ...argv._.slice(1)].map(String);
      const options = await runOptions({ ...argv, command }, hostEnv);
      const stdinFd = fdOf(stdin);
      if ((argv.interactive || argv.tty) && stdinFd === undefined)
        throw new CliUsageError("-i and -t need this process's own standard input");
      if (argv.tty && !isatty(stdinFd!)) throw new CliUsageError("the input device is not a TTY");
      const outFd = fdOf(stdout);
      const errFd = fdOf(stderr);
      const result = await withStore(argv, async (store) => {
        const image = await daemonNotFound(argv.image, () => store.resolve(argv.image));
        // A lazily resolved base's layers are fetched (verified) from where the store recorded them.
        const client = registryClient(argv);
        store.fetchBlob ??= blobFetcher(client);
        try {
          return await runImage(store, image, {
            ...options,
            stdio: [argv.interactive || argv.tty ? stdinFd! : "ignore", outFd ?? "pipe", errFd ?? "pipe"],
            onOutput: (chunk, stream) => (stream === "stdout" ? stdout : stderr).write(chunk),
            onStart: (kill) => {
              forward = kill;
            },
            onWarning: (m) => stderr.write(`WARNING: ${m}\n`),
            signal: abort.signal,
          });
        } finally {
          await client.close();
        }
      });
      process.exitCode = result.exitCode;
    } catch (err) {
      if (received) {
        process.exitCode = 128 + (constants.signals[received] ?? 15);
        return;
      }
      reportError(err);
      process.exitCode = isBuildError(err, "COMMAND_NOT_FOUND")
        ? 127
        : isBuildError(err, "COMMAND_NOT_EXECUTABLE")
          ? 126
          : EXIT_ERROR;
    } finally {
      for (const s of forwarded) process.off(s, onSignal);
    }
  },
};

/** runOptions turns the flags into runImage's options; a wrong flag value is a usage error. */
async function runOptions(
  argv: RunArgs,
  hostEnv: NodeJS.ProcessEnv,
): Promise<Omit<RunImageOptions, "stdio">> {
  const ports = (argv.publish ?? []).map(parsePublish);
  const network = argv.network ?? (ports.length > 0 ? "private" : "host");
  if (network !== "host" && network !== "none" && network !== "private")
    throw new CliUsageError(`network ${network} not found: use host, none or private`);
  if (ports.length > 0 && network === "none")
    throw new CliUsageError("conflicting options: port publishing and the container type network mode");
  if (ports.length > 0 && network === "host")
    io().stderr.write("WARNING: Published ports are discarded when using host network mode\n");
  if (argv.name !== undefined && !NAME.test(argv.name))
    throw new CliUsageError(
      `Invalid container name (${argv.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  const cwd = process.cwd();
  const mounts = (argv.volume ?? []).map((v) => parseVolume(v, cwd));
  // As docker: a missing host directory is created.
  for (const m of mounts)
    if (m.type === "host" && !existsSync(m.source)) await mkdir(m.source, { recursive: true });
  const env: string[] = [];
  for (const f of argv["env-file"] ?? []) env.push(...parseEnvFile(await readFile(f, "utf8"), hostEnv));
  for (const e of argv.env ?? []) env.push(...envValue(e, hostEnv));
  return {
    ...(argv.command && argv.command.length > 0 && { command: argv.command.map(String) }),
    ...(argv.entrypoint !== undefined && { entrypoint: argv.entrypoint }),
    env,
    ...(argv.workdir !== undefined && { workdir: argv.workdir }),
    ...(argv.user !== undefined && { user: argv.user }),
    network,
    ...(network === "private" && { ports }),
    mounts,
    terminal: argv.tty ?? false,
    ...(argv.name !== undefined && { name: argv.name }),
    ...(argv.runtime !== undefined && { runtime: argv.runtime }),
  };
}
