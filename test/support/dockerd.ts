import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../../scripts/dockerd.sh", import.meta.url));

/** DOCKER_CLI is Debian's 20.10 CLI: it has the BuildKit client DOCKER_BUILDKIT=1 needs (a newer CLI without buildx on PATH does not). */
export const DOCKER_CLI = "/usr/bin/docker";

/** DockerResult is what one docker command printed. */
export interface DockerResult {
  stdout: string;
  stderr: string;
}

/** DockerDaemon is a dockerd of our own; `docker(...)` runs the CLI against it. */
export interface DockerDaemon {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  /** docker runs the CLI and fails with its stderr unless it exits 0. */
  docker(args: readonly string[], options?: { env?: NodeJS.ProcessEnv }): Promise<DockerResult>;
  /** logs returns what dockerd wrote so far (for failure messages). */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * startDockerd runs `scripts/dockerd.sh start` in a new temp dir: Debian's dockerd (installed if
 * missing) with its own data root, exec root, pidfile and unix socket there, no bridge and no
 * iptables (so containers run with `--network none`), plus `flags` (e.g. `--insecure-registry`).
 * `stop()` stops it and its containerd by PID (dockerd.sh never stops a daemon by name) and
 * removes the directory.
 */
export async function startDockerd(flags: readonly string[] = []): Promise<DockerDaemon> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-dockerd-"));
  const env = {
    ...process.env,
    DOCKER_HOST: `unix://${join(dir, "docker.sock")}`,
    DOCKER_CONFIG: join(dir, "cli-config"),
    DOCKER_BUILDKIT: "1",
  };
  try {
    await exec("bash", [SCRIPT, "start", dir, ...flags], { maxBuffer: 1 << 24 });
  } catch (err) {
    const log = await readFile(join(dir, "dockerd.log"), "utf8").catch(() => "");
    await exec("bash", [SCRIPT, "stop", dir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw new Error(`dockerd did not start: ${String(err)}\n${log.slice(-3000)}`);
  }
  return {
    dir,
    env,
    docker: async (args, options = {}) => {
      try {
        return await exec(DOCKER_CLI, [...args], { env: { ...env, ...options.env }, maxBuffer: 1 << 26 });
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string };
        throw new Error(`docker ${args.join(" ")} failed:\n${e.stderr ?? ""}${e.stdout ?? ""}`.slice(-6000));
      }
    },
    logs: () => readFile(join(dir, "dockerd.log"), "utf8").catch(() => ""),
    stop: async () => {
      await exec("bash", [SCRIPT, "stop", dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
