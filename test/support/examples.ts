import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { pushDebianBase } from "./debian-base.js";
import { startRegistry, type TestRegistry } from "./registry.js";
import type { ProcessResult } from "./timings.js";

const exec = promisify(execFile);

/** REPO is the checkout; EXAMPLES its examples/ directory; TSBUILD the CLI a user runs (bin/tsbuild). */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const EXAMPLES = join(REPO, "examples");
export const TSBUILD = join(REPO, "bin/tsbuild");

/** NGINX_SOURCE is Debian's orig tarball of nginx 1.22.1 (bookworm's), with its sha256 from the .dsc. */
const NGINX_SOURCE = {
  pool: "pool/main/n/nginx/nginx_1.22.1.orig.tar.gz",
  sha256: "9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31",
};

/**
 * nginxSourceTarball returns the path of nginx's source tarball, downloaded
 * once from the host's Debian mirror into the test cache (scripts/debian-source.sh)
 * and verified.
 */
export async function nginxSourceTarball(): Promise<string> {
  const script = join(REPO, "scripts/debian-source.sh");
  return (await exec("bash", [script, NGINX_SOURCE.pool, NGINX_SOURCE.sha256])).stdout.trim();
}

/**
 * ExampleEnv is what an example's end-to-end test runs in: a temp directory, a
 * local registry holding the Debian base as `library/ubuntu:latest` and named
 * as tsbuild's Docker Hub mirror in its config file (docker daemon.json's
 * `registry-mirrors`), so `FROM ubuntu:latest` resolves there; and bin/tsbuild
 * run as a user would, with its own store, config and docker config.
 */
export interface ExampleEnv {
  readonly work: string;
  readonly mirror: TestRegistry;
  /** env is the environment every tsbuild call gets (TSBUILD_ROOT, TSBUILD_CONFIG, DOCKER_CONFIG). */
  readonly env: NodeJS.ProcessEnv;
  /** tsbuild runs `bin/tsbuild ARGS` to completion. */
  tsbuild(args: readonly string[], options?: { stdin?: string; cwd?: string }): Promise<ProcessResult>;
  /** spawnTsbuild starts `bin/tsbuild ARGS` and returns the process (for commands that keep running). */
  spawnTsbuild(args: readonly string[]): ChildProcess;
  close(): Promise<void>;
}

/** startExampleEnv sets up an ExampleEnv in a new temp directory named after `name`. */
export async function startExampleEnv(name: string): Promise<ExampleEnv> {
  if (process.getuid?.() !== 0) {
    throw new Error("the examples need root (debootstrap, runc, apt in RUN): run as root, as CI does");
  }
  const work = await mkdtemp(join(tmpdir(), `tsbuild-e2e-${name}-`));
  const mirror = await startRegistry();
  try {
    await pushDebianBase(mirror, { seedRoot: join(work, "seed") });
    const config = join(work, "tsbuild-config.json");
    await writeFile(config, JSON.stringify({ "registry-mirrors": [mirror.url] }));
    await mkdir(join(work, "docker"));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TSBUILD_ROOT: join(work, "store"),
      TSBUILD_CONFIG: config,
      DOCKER_CONFIG: join(work, "docker"),
      NO_COLOR: "1",
    };
    for (const k of ["TSBUILD_REGISTRY_MIRRORS", "TSBUILD_INSECURE_REGISTRIES", "TSBUILD_DEBUG"])
      delete env[k];
    const spawnTsbuild = (args: readonly string[], cwd = work) =>
      spawn(process.execPath, [TSBUILD, ...args], { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    return {
      work,
      mirror,
      env,
      spawnTsbuild: (args) => spawnTsbuild(args),
      tsbuild: (args, options = {}) => {
        const child = spawnTsbuild(args, options.cwd);
        child.stdin?.on("error", () => {});
        child.stdin?.end(options.stdin ?? "");
        return finished(child);
      },
      close: async () => {
        await mirror.stop();
        await rm(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await mirror.stop();
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

/** finished collects what a spawned process prints and resolves when it has exited and closed its output. */
export function finished(child: ChildProcess): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => out.push(c));
    child.stderr?.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    // code is null when a signal killed the process.
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
}

/** Table is a docker-style table (`image ls`, `image history`) split into cells at its header's columns. */
export type Table = Record<string, string>[];

/**
 * parseTable splits a table whose columns are separated by two or more spaces,
 * cutting every row at the offsets of the header's names (a cell may be empty).
 */
export function parseTable(text: string): Table {
  const [header = "", ...rows] = text.trimEnd().split("\n");
  const names = header.split(/ {2,}/);
  const at = names.map((n) => header.indexOf(n));
  return rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row.slice(at[i], at[i + 1]).trim()])));
}

/** megabytes reads docker's human size ("134MB", "1.2GB", "0B") as MB (1000² bytes, as docker's units). */
export function megabytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)(B|kB|MB|GB)$/.exec(size);
  if (!m) throw new Error(`not a docker size: ${JSON.stringify(size)}`);
  const scale = { B: 1e-6, kB: 1e-3, MB: 1, GB: 1e3 }[m[2] as "B" | "kB" | "MB" | "GB"];
  return Number(m[1]) * scale;
}

/** truncated is `docker image history`'s CREATED BY cell: tabs as spaces, cut to 45 columns ending in "…". */
export function truncated(createdBy: string): string {
  const s = createdBy.replaceAll("\t", " ");
  return [...s].length > 45 ? `${[...s].slice(0, 44).join("")}…` : s;
}
