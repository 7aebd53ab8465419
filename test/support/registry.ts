import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startTokenServer, type TokenServer } from "./token-server.js";

const run = promisify(execFile);

/** REGISTRY_BINARY is the CNCF distribution registry from Debian's docker-registry package. */
export const REGISTRY_BINARY = process.env.TSBUILD_TEST_REGISTRY ?? "/usr/bin/docker-registry";

/** RegistryAuthMode picks one of the three configurations the integration tests cover. */
export type RegistryAuthMode = "anonymous" | "basic" | "token";

/** TEST_USER is the account every authenticated registry accepts, with pull and push on everything. */
export const TEST_USER = { username: "tsbuild", password: "s3cret-pass" } as const;

/** RegistryOptions configures startRegistry. */
export interface RegistryOptions {
  readonly auth?: RegistryAuthMode;
  /** users beyond TEST_USER (basic and token modes). */
  readonly extraUsers?: readonly { username: string; password: string; actions?: readonly string[] }[];
}

/** TestRegistry is a running registry; `host` is `127.0.0.1:PORT` as it appears in image names. */
export interface TestRegistry {
  readonly auth: RegistryAuthMode;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly storageDir: string;
  readonly logFile: string;
  readonly tokenServer: TokenServer | undefined;
  /** logs returns what the registry wrote so far (for failure messages). */
  logs(): Promise<string>;
  /**
   * restart kills the registry outright (SIGKILL, as a crash) and starts it again on the same port and
   * storage (after `downMs` down), resolving once it answers; uploads in flight are lost, stored blobs
   * and manifests stay.
   */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * startRegistry runs `docker-registry serve` on a free 127.0.0.1 port with its own
 * storage directory (deletes enabled), in one of three auth modes, and waits until
 * GET /v2/ answers. Logs go to `logFile`. Call `stop()` in afterAll.
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? "anonymous";
  const dir = await mkdtemp(join(tmpdir(), `tsbuild-registry-${auth}-`));
  const storageDir = join(dir, "storage");
  const logFile = join(dir, "registry.log");
  const users = [TEST_USER, ...(options.extraUsers ?? [])];
  let tokenServer: TokenServer | undefined;
  let authConfig = "";
  if (auth === "basic") {
    const lines: string[] = [];
    for (const u of users) {
      const { stdout } = await run("htpasswd", ["-nbB", u.username, u.password]);
      lines.push(stdout.trim());
    }
    await writeFile(join(dir, "htpasswd"), `${lines.join("\n")}\n`);
    authConfig = `auth:\n  htpasswd:\n    realm: tsbuild-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth === "token") {
    tokenServer = await startTokenServer({ dir, users });
    authConfig = [
      "auth:",
      "  token:",
      `    realm: ${tokenServer.realm}`,
      `    service: ${tokenServer.service}`,
      `    issuer: ${tokenServer.issuer}`,
      `    rootcertbundle: ${tokenServer.rootCertBundle}`,
      "",
    ].join("\n");
  }

  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = [
      "version: 0.1",
      "log:",
      "  level: info",
      "  accesslog:",
      "    disabled: false",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${storageDir}`,
      "  delete:",
      "    enabled: true",
      "  maintenance:",
      "    uploadpurging:",
      "      enabled: false",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "  secret: tsbuild-test-secret",
      authConfig,
    ].join("\n");
    const configPath = join(dir, "config.yml");
    await writeFile(configPath, config);
    const log = createWriteStream(logFile, { flags: "a" });
    await once(log, "open");
    let child = spawn(REGISTRY_BINARY, ["serve", configPath], { stdio: ["ignore", log, log] });
    try {
      await waitReady(child, `http://127.0.0.1:${port}/v2/`);
    } catch (err) {
      lastError = err;
      child.kill("SIGKILL");
      log.end();
      continue;
    }
    const registry: TestRegistry = {
      auth,
      host: `127.0.0.1:${port}`,
      port,
      url: `http://127.0.0.1:${port}`,
      dir,
      storageDir,
      logFile,
      tokenServer,
      logs: () => readFile(logFile, "utf8"),
      restart: async (options = {}) => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, "exit");
          child.kill("SIGKILL");
          await exited;
        }
        if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
        // The port may take a moment to be free again: retry the start until it answers.
        for (let i = 0; ; i++) {
          child = spawn(REGISTRY_BINARY, ["serve", configPath], { stdio: ["ignore", log, log] });
          try {
            await waitReady(child, `http://127.0.0.1:${port}/v2/`);
            return;
          } catch (err) {
            child.kill("SIGKILL");
            if (i >= 4) throw err;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      },
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, "exit");
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
          await exited;
          clearTimeout(timer);
        }
        log.end();
        await tokenServer?.close();
        if (!process.env.TSBUILD_KEEP_REGISTRY) await rm(dir, { recursive: true, force: true });
      },
    };
    return registry;
  }
  await tokenServer?.close();
  const logs = await readFile(logFile, "utf8").catch(() => "");
  throw new Error(`docker-registry did not start: ${String(lastError)}\n${logs.slice(-2000)}`);
}

/** freePort asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function waitReady(child: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`registry at ${url} not ready after 15s`);
}
