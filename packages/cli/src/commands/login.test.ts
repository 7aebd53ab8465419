import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { delimiter, join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../testing.js";

const USER = "alice";
const PASSWORD = "c0rrect-h0rse-battery";

let dir: string;
let server: Server;
let host: string;
let env: NodeJS.ProcessEnv;

/** start serves /v2/ behind Bearer (token realm on the same server) or Basic auth, accepting only USER:PASSWORD. */
async function start(mode: "bearer" | "basic"): Promise<void> {
  const good = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    if (mode === "basic") {
      if (req.headers.authorization === good) return send(200, {});
      return send(
        401,
        { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
        {
          "www-authenticate": 'Basic realm="test"',
        },
      );
    }
    if (url.pathname === "/token") {
      if (req.headers.authorization !== good) return send(401, { details: "incorrect username or password" });
      return send(200, { token: "issued-token-xyz" });
    }
    if (req.headers.authorization === "Bearer issued-token-xyz") return send(200, {});
    send(
      401,
      { errors: [{ code: "UNAUTHORIZED" }] },
      {
        "www-authenticate": `Bearer realm="http://${host}/token",service="test"`,
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeEach(async () => {
  dir = await tempDir("tsbuild-login-");
  env = { ...process.env, DOCKER_CONFIG: join(dir, "docker"), TSBUILD_CONFIG: join(dir, "none.json") };
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await rm(dir, { recursive: true, force: true });
});

const configPath = () => join(dir, "docker", "config.json");

describe("tsbuild login", () => {
  it.each(["bearer", "basic"] as const)("verifies and stores credentials (%s registry)", async (mode) => {
    await start(mode);
    const r = await runCli(["login", host, "-u", USER, "--password-stdin"], { stdin: `${PASSWORD}\n`, env });
    expect(r.stdout).toBe("Login Succeeded\n");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`WARNING! Your credentials are stored unencrypted in '${configPath()}'.`);
    expect((await stat(configPath())).mode & 0o777).toBe(0o600);
    const config = JSON.parse(await readFile(configPath(), "utf8"));
    expect(config.auths[host].auth).toBe(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it("rejects bad credentials, stores nothing and never prints the password", async () => {
    await start("bearer");
    const r = await runCli(["login", host, "-u", USER, "--password-stdin"], {
      stdin: "wrong-password-1",
      env,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/incorrect username or password/);
    expect(r.stdout + r.stderr).not.toContain("wrong-password-1");
    await expect(stat(configPath())).rejects.toThrow();
  });

  it("keeps the password and token out of debug output too", async () => {
    await start("bearer");
    const r = await runCli(["login", host, "-u", USER, "--password-stdin"], {
      stdin: PASSWORD,
      env: { ...env, TSBUILD_DEBUG: "1" },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`debug: GET http://${host}/token?service=test -> 200`);
    for (const secret of [
      PASSWORD,
      "issued-token-xyz",
      Buffer.from(`${USER}:${PASSWORD}`).toString("base64"),
    ]) {
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
  });

  it("warns about -p, and rejects conflicting or incomplete flags as usage errors", async () => {
    await start("basic");
    const p = await runCli(["login", host, "-u", USER, "-p", PASSWORD], { env });
    expect(p.code).toBe(0);
    expect(p.stderr).toContain("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    const both = await runCli(["login", host, "-u", USER, "-p", "x", "--password-stdin"], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--password and --password-stdin are mutually exclusive");
    const noUser = await runCli(["login", host, "--password-stdin"], { stdin: "x", env });
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toContain("Must provide --username with --password-stdin");
  });

  it("refuses an interactive login without a TTY, and reuses stored credentials when they work", async () => {
    await start("bearer");
    const none = await runCli(["login", host], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("Cannot perform an interactive login from a non TTY device");
    await runCli(["login", host, "-u", USER, "--password-stdin"], { stdin: PASSWORD, env });
    const again = await runCli(["login", host], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("Authenticating with existing credentials...\nLogin Succeeded\n");
  });

  it("prompts on a TTY without echoing the password", async () => {
    await start("bearer");
    const stdin = Object.assign(new PassThrough(), {
      isTTY: true,
      rawMode: false,
      setRawMode(raw: boolean) {
        this.rawMode = raw;
      },
    });
    stdin.write(`${USER}\n${PASSWORD}\r`);
    const r = await runCli(["login", host], { stdin, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Username: Password: \nLogin Succeeded\n");
    expect(stdin.rawMode).toBe(false);
  });

  it("stores in the credential helper when one is configured, without the plaintext warning", async () => {
    await start("basic");
    const bin = join(dir, "bin");
    await mkdir(bin);
    await mkdir(join(dir, "docker"));
    await writeFile(configPath(), JSON.stringify({ credsStore: "fake" }));
    const db = join(dir, "helper.json");
    const helper = join(bin, "docker-credential-fake");
    await writeFile(
      helper,
      `#!${process.execPath}
const fs = require("fs"); let input = "";
process.stdin.on("data", (c) => (input += c)).on("end", () => {
  const action = process.argv[2];
  if (action === "store") fs.writeFileSync(${JSON.stringify(db)}, input);
  else if (action === "erase") fs.rmSync(${JSON.stringify(db)}, { force: true });
  else { process.stdout.write("credentials not found in native keychain"); process.exit(1); }
});
`,
    );
    await chmod(helper, 0o755);
    const helperEnv = { ...env, PATH: `${bin}${delimiter}${process.env.PATH}` };
    const r = await runCli(["login", host, "-u", USER, "--password-stdin"], {
      stdin: PASSWORD,
      env: helperEnv,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("unencrypted");
    expect(JSON.parse(await readFile(db, "utf8"))).toEqual({
      ServerURL: host,
      Username: USER,
      Secret: PASSWORD,
    });
    expect(await readFile(configPath(), "utf8")).not.toContain(
      Buffer.from(`${USER}:${PASSWORD}`).toString("base64"),
    );
    const out = await runCli(["logout", host], { env: helperEnv });
    expect(out.stdout).toBe(`Removing login credentials for ${host}\n`);
    await expect(stat(db)).rejects.toThrow();
  });
});

describe("tsbuild logout", () => {
  it("removes stored credentials, then says it is not logged in", async () => {
    await start("basic");
    await runCli(["login", host, "-u", USER, "--password-stdin"], { stdin: PASSWORD, env });
    const first = await runCli(["logout", host], { env });
    expect(first.stdout).toBe(`Removing login credentials for ${host}\n`);
    expect(JSON.parse(await readFile(configPath(), "utf8")).auths).toEqual({});
    const second = await runCli(["logout", host], { env });
    expect(second.stdout).toBe(`Not logged in to ${host}\n`);
    const hub = await runCli(["logout"], { env });
    expect(hub.stdout).toBe("Not logged in to https://index.docker.io/v1/\n");
  });
});
