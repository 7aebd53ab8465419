import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tempDir } from "./testing.js";

/** BUNDLE is what bin/tsbuild runs: `pnpm build` writes it (scripts/bundle-cli.mjs). */
const BUNDLE = join(import.meta.dirname, "..", "dist", "bundle", "tsbuild.js");

async function bundled(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BUNDLE, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The bundle prints what the modules print: help (whatever the language), usage errors, output. */
describe("bundled CLI", () => {
  // yargs picks its language from these (in this process, from process.env).
  const LOCALE_VARS = ["LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"] as const;
  const saved = Object.fromEntries(LOCALE_VARS.map((k) => [k, process.env[k]]));
  afterEach(() => {
    for (const k of LOCALE_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it("exists (pnpm build writes it)", () => {
    expect(existsSync(BUNDLE), `${BUNDLE} is missing: run pnpm build`).toBe(true);
  });

  const cases: { args: string[]; lang?: string }[] = [
    { args: ["--help"] },
    // --version differs: the bundle knows its git commit (help/help.test.ts).
    { args: ["image", "--help"] },
    { args: ["image", "ls", "--help"] },
    { args: ["build", "--help"] },
    { args: ["push", "--help"] },
    { args: ["images"] },
    { args: ["image", "ls", "--format", "{{json .}}", "-a"] },
    { args: ["image", "rm"] },
    { args: ["images", "--bogus"] },
    { args: ["bogus"] },
    { args: ["--format", "x", "images"] },
    { args: ["rmi", "nope"] },
    { args: ["--help"], lang: "de_DE.UTF-8" },
    { args: ["build", "--help"], lang: "fr_FR.UTF-8" },
  ];
  for (const c of cases) {
    it(`tsbuild ${c.args.join(" ")}${c.lang ? ` (LANG=${c.lang})` : ""}`, async () => {
      const root = await tempDir();
      const args = ["--root", root, ...c.args];
      for (const k of LOCALE_VARS) delete process.env[k];
      if (c.lang) process.env.LANG = c.lang;
      const env = { ...process.env };
      const inProcess = await runCli(args, { env });
      expect(await bundled(args, env)).toEqual(inProcess);
    });
  }

  it("talks to a registry through its stand-in for undici", async () => {
    // A registry that has no such manifest: the client's Agent and request() run, then its error.
    const server = createServer((req, res) => {
      res.writeHead(req.url === "/v2/" ? 200 : 404, { "content-type": "application/json" });
      res.end(
        req.url === "/v2/" ? "{}" : '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
      );
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const args = ["--root", await tempDir(), "--insecure-registry", host, "pull", `${host}/x:1`];
      const env = { ...process.env };
      const inProcess = await runCli(args, { env });
      expect(inProcess.code).toBe(1);
      expect(await bundled(args, env)).toEqual(inProcess);
    } finally {
      server.close();
    }
  });
});
