import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { Readable } from "node:stream";
import {
  type CheckResult,
  checkDockerfile,
  type DockerfileError,
  findIgnoreFile,
  formatCheckReport,
  isBuildError,
  type LintWarning,
  PatternMatcher,
  type PlanOptions,
  parseCacheFrom,
  parseCacheTo,
  parseDockerfile,
  planBuild,
  unusedBuildArgsWarning,
} from "@tsbuild/builder";
import {
  applyLayer,
  type ImageConfig,
  normalizePlatform,
  type Platform,
  parsePlatform,
  parseReference,
} from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { CliUsageError, io, ReportedFailure } from "../output.js";
import { parseOutput, runBuild } from "./build-run.js";
import { storeRoot, withStore } from "./image-store.js";

/** BuildArgs are docker build's flags that tsbuild accepts. */
export interface BuildArgs {
  root?: string;
  context: string;
  tag?: string | string[];
  file?: string;
  "build-arg"?: string | string[];
  target?: string;
  platform?: string;
  progress?: string;
  "no-cache"?: boolean;
  network?: string;
  pull?: boolean;
  check?: boolean;
  quiet?: boolean;
  iidfile?: string;
  output?: string | string[];
  push?: boolean;
  label?: string | string[];
  "no-cache-filter"?: string | string[];
  secret?: string | string[];
  ssh?: string | string[];
  allow?: string | string[];
  "cache-from"?: string | string[];
  "cache-to"?: string | string[];
}

const PROGRESS = ["auto", "plain", "tty", "json", "quiet"] as const;
const NETWORKS = ["default", "none", "host"] as const;

/**
 * parseBuildArgs reads `--build-arg K=V` and `--build-arg K` (value from the environment, skipped when
 * unset), as docker does; a later value for the same name wins.
 */
export function parseBuildArgs(values: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === "") throw new CliUsageError(`invalid argument "${v}" for "--build-arg" flag: empty name`);
    if (eq >= 0) out[key] = v.slice(eq + 1);
    else if (env[key] !== undefined) out[key] = env[key];
  }
  return out;
}

/** list normalises a repeatable flag: absent, once, or several times. */
function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** BuildInputs are the validated flags and files of one build. */
interface BuildInputs {
  contextDir: string;
  dockerfilePath: string;
  /** dockerfileName is what messages call the file (its base name, as BuildKit does). */
  dockerfileName: string;
  dockerfile: Buffer;
  buildArgs: Record<string, string>;
  platform: Platform | undefined;
  /** platforms are every `--platform` given (several: a multi-platform build). */
  platforms?: Platform[];
  /** cleanup removes a context made from standard input. */
  cleanup?: () => Promise<void>;
}

async function readInputs(argv: BuildArgs): Promise<BuildInputs> {
  for (const tag of list(argv.tag)) {
    try {
      parseReference(tag);
    } catch (err) {
      throw new CliUsageError(`invalid argument "${tag}" for "-t, --tag" flag: ${(err as Error).message}`);
    }
  }
  let platform: Platform | undefined;
  let platforms: Platform[] | undefined;
  if (argv.platform !== undefined) {
    const list = argv.platform
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    // --check lints the Dockerfile once, for the first platform; a build makes one image per platform.
    const parsed = (list.length > 0 ? list : [""]).map((p) => {
      try {
        return parsePlatform(p);
      } catch (err) {
        throw new CliUsageError(
          `invalid argument "${argv.platform}" for "--platform" flag: ${(err as Error).message}`,
        );
      }
    });
    platform = parsed[0];
    if (parsed.length > 1) platforms = parsed;
  }
  const buildArgs = parseBuildArgs(list(argv["build-arg"]), io().env);
  // As buildx: SOURCE_DATE_EPOCH in the environment is the build arg unless one is given.
  const epoch = io().env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== "" && buildArgs.SOURCE_DATE_EPOCH === undefined) {
    buildArgs.SOURCE_DATE_EPOCH = epoch;
  }
  if (argv.context === "-")
    return { ...(await stdinContext(argv, buildArgs, platform)), ...(platforms ? { platforms } : {}) };
  const contextDir = resolve(argv.context);
  const st = await stat(contextDir).catch(() => undefined);
  if (!st) throw new Error(`unable to prepare context: path ${JSON.stringify(argv.context)} not found`);
  if (!st.isDirectory())
    throw new Error(`unable to prepare context: ${JSON.stringify(argv.context)} is not a directory`);
  if (argv.file === "-") {
    // `-f -` reads the Dockerfile from standard input; the context's .dockerignore applies.
    const chunks: Buffer[] = [];
    for await (const chunk of io().stdin) chunks.push(Buffer.from(chunk as Buffer));
    const dockerfilePath = resolve(contextDir, "Dockerfile");
    const dockerfile = Buffer.concat(chunks);
    return {
      contextDir,
      dockerfilePath,
      dockerfileName: "Dockerfile",
      dockerfile,
      buildArgs,
      platform,
      ...(platforms ? { platforms } : {}),
    };
  }
  const dockerfilePath = argv.file !== undefined ? resolve(argv.file) : resolve(contextDir, "Dockerfile");
  let dockerfile: Buffer;
  try {
    dockerfile = await readFile(dockerfilePath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file or directory" : code === "EISDIR" ? "is a directory" : String(code);
    throw new Error(`failed to read dockerfile: open ${argv.file ?? "Dockerfile"}: ${reason}`);
  }
  return {
    contextDir,
    dockerfilePath,
    dockerfileName: basename(dockerfilePath),
    dockerfile,
    buildArgs,
    platform,
    ...(platforms ? { platforms } : {}),
  };
}

/**
 * stdinContext is `tsbuild build -`, as docker takes it: a tar archive (plain or gzip) on standard input is
 * the context (its Dockerfile, or `-f` inside it); anything else is the Dockerfile itself, with an empty
 * context.
 */
async function stdinContext(
  argv: BuildArgs,
  buildArgs: Record<string, string>,
  platform: Platform | undefined,
): Promise<BuildInputs> {
  if (argv.file === "-") {
    throw new CliUsageError("invalid argument: can't use stdin for both build context and dockerfile");
  }
  const chunks: Buffer[] = [];
  for await (const chunk of io().stdin) chunks.push(Buffer.from(chunk as Buffer));
  const data = Buffer.concat(chunks);
  const contextDir = await mkdtemp(join(tmpdir(), "tsbuild-stdin-"));
  const cleanup = () => rm(contextDir, { recursive: true, force: true });
  const gzip = data[0] === 0x1f && data[1] === 0x8b;
  const tar = data.length >= 512 && data.subarray(257, 262).toString("latin1") === "ustar";
  if (!gzip && !tar) {
    const dockerfilePath = join(contextDir, "Dockerfile");
    return {
      contextDir,
      dockerfilePath,
      dockerfileName: "Dockerfile",
      dockerfile: data,
      buildArgs,
      platform,
      cleanup,
    };
  }
  try {
    await applyLayer(Readable.from([data]), contextDir, { sameOwner: false });
  } catch (err) {
    await cleanup();
    throw new Error(
      `unable to prepare context: reading the tar archive on standard input: ${(err as Error).message}`,
    );
  }
  const name = argv.file ?? "Dockerfile";
  const dockerfilePath = resolve(contextDir, name.replace(/^\/+/, ""));
  let dockerfile: Buffer;
  try {
    dockerfile = await readFile(dockerfilePath);
  } catch {
    await cleanup();
    throw new Error(`failed to read dockerfile: open ${name}: no such file or directory`);
  }
  return {
    contextDir,
    dockerfilePath,
    dockerfileName: basename(dockerfilePath),
    dockerfile,
    buildArgs,
    platform,
    cleanup,
  };
}

/** readSecrets reads `--secret id=ID[,src=FILE|,env=VAR]` (docker's forms; a bare id reads $ID). */
async function readSecrets(values: readonly string[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const v of values) {
    const f = new Map<string, string>();
    for (const part of v.split(",")) {
      const eq = part.indexOf("=");
      f.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? "" : part.slice(eq + 1));
    }
    const id = f.get("id");
    if (!id) throw new CliUsageError(`invalid argument "${v}" for "--secret" flag: id is required`);
    const src = f.get("src") ?? f.get("source");
    const env = f.get("env");
    if (src !== undefined) {
      try {
        out.set(id, await readFile(src));
      } catch (err) {
        throw new Error(
          `failed to read secret ${id} from ${src}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        );
      }
    } else {
      const value = io().env[env ?? id];
      if (value === undefined) {
        throw new Error(`secret ${id}: environment variable ${env ?? id} is not set`);
      }
      out.set(id, Buffer.from(value));
    }
  }
  return out;
}

/** sshSockets reads `--ssh default` ($SSH_AUTH_SOCK) and `--ssh id=SOCKET`. */
function sshSockets(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf("=");
    const id = eq < 0 ? v : v.slice(0, eq);
    const socket = eq < 0 ? io().env.SSH_AUTH_SOCK : v.slice(eq + 1);
    if (!socket) throw new Error(`--ssh ${id}: no agent socket (SSH_AUTH_SOCK is not set)`);
    out.set(id, socket);
  }
  return out;
}

/** errorText prints a Dockerfile error with its source line and caret, or just the message when it has no position. */
function errorText(err: DockerfileError): string {
  return err.line > 0 ? err.format() : err.detail;
}

/** warningSummary is buildx's end-of-build list (printWarnings): a blank line, the count, ` - Rule: message (line N)`. */
function warningSummary(warnings: readonly LintWarning[]): string {
  const n = warnings.length;
  let out = `\n ${n} warning${n === 1 ? "" : "s"} found (use docker --debug to expand):\n`;
  for (const w of warnings) out += ` - ${w.rule}: ${w.message} (line ${w.location.startLine})\n`;
  return out;
}

/**
 * localBaseConfigs looks the external base images up in the local store (never the network), so word
 * expansion and UndefinedVar see their ENV, SHELL and ONBUILD as BuildKit would after resolving them.
 * Images not in the store stay unknown. It never creates a store.
 */
async function localBaseConfigs(
  argv: BuildArgs,
  inputs: BuildInputs,
  options: PlanOptions,
): Promise<PlanOptions["imageConfig"]> {
  let refs: string[];
  try {
    const plan = planBuild(parseDockerfile(inputs.dockerfile, { file: inputs.dockerfileName }), {
      ...options,
      allStages: true,
    });
    refs = [...new Set(plan.stages.flatMap((s) => (s.base.kind === "image" ? [s.base.ref] : [])))];
  } catch {
    return undefined; // the check itself reports the problem
  }
  if (refs.length === 0 || !existsSync(join(storeRoot(argv), "index.json"))) return undefined;
  const configs = new Map<string, ImageConfig>();
  await withStore(argv, async (store) => {
    for (const ref of refs) {
      const image = await store.resolve(ref).catch(() => undefined);
      if (image) configs.set(ref, image.config);
    }
  });
  if (configs.size === 0) return undefined;
  return (ref, platform) => {
    const config = configs.get(ref);
    const want = normalizePlatform(platform);
    if (!config || config.os !== want.os || normalizePlatform(config).architecture !== want.architecture) {
      return undefined;
    }
    return {
      env: config.config?.Env ?? [],
      shell: config.config?.Shell ?? [],
      onBuild: config.config?.OnBuild ?? [],
    };
  };
}

/**
 * checkEvents is `--check --progress json`: one JSON object per line, a `lint` event per warning, then
 * one `check` event with the count and the error (if any), for CI tools.
 */
function checkEvents(result: CheckResult): string {
  let out = "";
  for (const w of result.warnings) {
    const { file, startLine, endLine } = w.location;
    out += `${JSON.stringify({ type: "lint", rule: w.rule, message: w.message, description: w.description, url: w.url, file, line: startLine, endLine })}\n`;
  }
  const e = result.error;
  const error = e
    ? {
        code: e.code,
        message: e.detail,
        ...(e.line > 0 ? { file: e.file, line: e.line, column: e.column } : {}),
      }
    : undefined;
  out += `${JSON.stringify({ type: "check", warnings: result.warnings.length, ...(error ? { error } : {}) })}\n`;
  return out;
}

function failWith(result: CheckResult): never {
  const { stdout, stderr } = io();
  if (result.warnings.length > 0) stdout.write("\n");
  stderr.write(`Error: ${errorText(result.error!)}\n`);
  throw new ReportedFailure();
}

/** buildCommand is `tsbuild build [OPTIONS] PATH`, docker's verb; `--check` lints without building. */
export const buildCommand: CommandModule<{ root?: string }, BuildArgs> = {
  command: "build <context>",
  describe: "Build an image from a Dockerfile (--check: lint it without building)",
  builder: (y: Argv<{ root?: string }>) =>
    y
      .positional("context", {
        type: "string",
        describe: "PATH (the build context directory)",
        demandOption: true,
      })
      // Repeatable single-value flags (yargs collects repeats); `array: true` would swallow PATH.
      .option("tag", {
        alias: "t",
        type: "string",
        describe: 'Name and optionally a tag ("name:tag"), repeatable',
      })
      .option("file", {
        alias: "f",
        type: "string",
        describe: 'Name of the Dockerfile (default: "PATH/Dockerfile"; "-" reads standard input)',
      })
      .option("build-arg", { type: "string", describe: "Set build-time variables (KEY=VALUE), repeatable" })
      .option("target", { type: "string", describe: "Set the target build stage to build" })
      .option("platform", {
        type: "string",
        describe:
          "Set target platform for build (os/arch[/variant]; several, comma-separated, make a multi-platform image)",
      })
      .option("progress", {
        type: "string",
        choices: PROGRESS,
        default: "auto",
        describe: "Set type of progress output",
      })
      .option("no-cache", { type: "boolean", describe: "Do not use cache when building the image" })
      .option("network", {
        type: "string",
        choices: NETWORKS,
        default: "default",
        describe: "Set the networking mode for the RUN instructions during build",
      })
      .option("pull", { type: "boolean", describe: "Always attempt to pull all referenced images" })
      .option("quiet", {
        alias: "q",
        type: "boolean",
        describe: "Suppress the build output and print image ID on success",
      })
      .option("iidfile", { type: "string", describe: "Write the image ID to the file" })
      .option("output", {
        alias: "o",
        type: "string",
        describe:
          'Output destination (format: "type=local,dest=path"; types: image, registry, docker, oci, oci-archive, tar, local), repeatable',
      })
      .option("push", {
        type: "boolean",
        describe: "Push the image to its registry after building (same as --output=type=registry)",
      })
      .option("label", { type: "string", describe: "Set metadata for an image (KEY=VALUE), repeatable" })
      .option("secret", {
        type: "string",
        describe:
          'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]" or "id=X,env=VAR"), repeatable',
      })
      .option("ssh", {
        type: "string",
        describe:
          'SSH agent socket or keys to expose to the build (format: "default|<id>[=<socket>]"), repeatable',
      })
      .option("allow", {
        type: "string",
        describe: 'Allow extra privileged entitlement (e.g. "security.insecure"), repeatable',
      })
      .option("cache-from", {
        type: "string",
        describe:
          'External cache sources (e.g., "type=registry,ref=REG/REPO:TAG", "type=local,src=DIR"), repeatable',
      })
      .option("cache-to", {
        type: "string",
        describe:
          'Cache export destinations (e.g., "type=registry,ref=REG/REPO:TAG,mode=max", "type=local,dest=DIR", "type=inline"), repeatable',
      })
      .option("no-cache-filter", { type: "string", describe: "Do not cache specified stages, repeatable" })
      .option("check", {
        type: "boolean",
        describe: "Lint the Dockerfile (BuildKit's checks) without building",
      })
      .example(
        "tsbuild build -t myapp:1.0 --build-arg VERSION=1.0 .",
        "build the Dockerfile in the current directory and name the image",
      ),
  handler: async (argv) => {
    // yargs-parser reads the "-" of `-q -` as an empty value: a lone "-" is the only way to get one.
    if (argv.context === "") argv.context = "-";
    const inputs = await readInputs(argv);
    try {
      await buildWith(argv, inputs);
    } finally {
      await inputs.cleanup?.();
    }
  },
};

async function buildWith(argv: BuildArgs, inputs: BuildInputs): Promise<void> {
  const { stdout, stderr } = io();
  const common: PlanOptions & { file: string } = {
    file: inputs.dockerfileName,
    buildArgs: inputs.buildArgs,
    ...(argv.target !== undefined ? { target: argv.target } : {}),
    ...(inputs.platform ? { targetPlatform: inputs.platform } : {}),
  };
  const imageConfig = await localBaseConfigs(argv, inputs, common);
  if (imageConfig) common.imageConfig = imageConfig;
  const ignore = await findIgnoreFile(inputs.contextDir, inputs.dockerfilePath);
  if (ignore.patterns.length > 0) common.ignorePatterns = ignore.patterns;
  if (argv.check) {
    // Unlike a build, a check exits 1 when it finds anything, warnings included (BuildKit's lint status code).
    const result = checkDockerfile(inputs.dockerfile, common);
    if (argv.progress === "json") {
      stdout.write(checkEvents(result));
    } else {
      stdout.write(formatCheckReport(result));
      if (result.error) failWith(result);
    }
    if (result.error || result.warnings.length > 0) throw new ReportedFailure();
    return;
  }
  // A normal build lints what it builds and lists the findings at the end, as docker does.
  const result = checkDockerfile(inputs.dockerfile, { ...common, allStages: false });
  if (result.error) failWith(result);
  try {
    new PatternMatcher(ignore.patterns);
  } catch (err) {
    if (isBuildError(err)) throw new Error(`failed to read .dockerignore: ${ignore.path}: ${err.message}`);
    throw err;
  }
  const plan = planBuild(parseDockerfile(inputs.dockerfile, { file: inputs.dockerfileName }), common);
  if (result.warnings.length > 0) stderr.write(warningSummary(result.warnings));
  if (plan.unusedBuildArgs.length > 0) stderr.write(`${unusedBuildArgsWarning(plan.unusedBuildArgs)}\n`);
  const labels: Record<string, string> = {};
  for (const l of list(argv.label)) {
    const eq = l.indexOf("=");
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
  }
  const outputs = list(argv.output).map(parseOutput);
  await runBuild({
    argv,
    tags: list(argv.tag),
    outputs,
    dockerfile: inputs.dockerfile,
    dockerfileName: inputs.dockerfileName,
    dockerfilePath: inputs.dockerfilePath,
    contextDir: inputs.contextDir,
    buildArgs: inputs.buildArgs,
    ...(argv.target !== undefined ? { target: argv.target } : {}),
    ...(inputs.platform ? { platform: inputs.platform } : {}),
    ...(inputs.platforms ? { platforms: inputs.platforms } : {}),
    noCache: argv["no-cache"] === true,
    noCacheFilter: list(argv["no-cache-filter"]),
    pull: argv.pull === true,
    labels,
    ...(argv.network && argv.network !== "default" ? { network: argv.network as "host" | "none" } : {}),
    secrets: await readSecrets(list(argv.secret)),
    ssh: sshSockets(list(argv.ssh)),
    allow: list(argv.allow),
    cacheFrom: list(argv["cache-from"]).map(cacheOption(parseCacheFrom)),
    cacheTo: list(argv["cache-to"]).map(cacheOption(parseCacheTo)),
  });
}

/** cacheOption words a malformed `--cache-from`/`--cache-to` value as a usage error (exit 2). */
function cacheOption<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (err) {
      if (isBuildError(err)) throw new CliUsageError(err.message);
      throw err;
    }
  };
}
