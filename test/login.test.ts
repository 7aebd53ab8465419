import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ImageStore } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../packages/cli/src/testing.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, TEST_USER, type TestRegistry } from "./support/registry.js";

/**
 * `tsbuild login` against the real registry in both auth modes: bad
 * credentials are refused and not stored, good ones are stored and then used
 * by `push`, and `logout` takes the access away again.
 */
describe.each(["basic", "token"] as const)("tsbuild login against docker-registry (%s auth)", (mode) => {
  let registry: TestRegistry;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    registry = await startRegistry({ auth: mode });
    dir = await tempDir(`tsbuild-login-${mode}-`);
    env = {
      ...process.env,
      TSBUILD_ROOT: join(dir, "store"),
      DOCKER_CONFIG: join(dir, "docker"),
      TSBUILD_CONFIG: join(dir, "none.json"),
    };
    const store = await ImageStore.open({ root: join(dir, "store") });
    try {
      await makeTestImage(store, {
        layers: [fileLayer("app", { "hello.txt": "hello" })],
        names: [`${registry.host}/me/app:v1`],
      });
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses wrong credentials and stores nothing", async () => {
    const r = await runCli(["login", registry.host, "-u", TEST_USER.username, "--password-stdin"], {
      stdin: "not-the-password\n",
      env,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unauthorized|incorrect username or password/i);
    expect(r.stdout + r.stderr).not.toContain("not-the-password");
    await expect(readFile(join(dir, "docker", "config.json"), "utf8")).rejects.toThrow();
  });

  it("push is denied before login, works after it, and is denied again after logout", async () => {
    const denied = await runCli(["push", `${registry.host}/me/app:v1`], { env });
    expect(denied.code).toBe(1);

    const login = await runCli(["login", registry.host, "-u", TEST_USER.username, "--password-stdin"], {
      stdin: `${TEST_USER.password}\n`,
      env,
    });
    expect(login.stdout).toBe("Login Succeeded\n");
    expect(login.code).toBe(0);
    expect(login.stdout + login.stderr).not.toContain(TEST_USER.password);

    const pushed = await runCli(["push", `${registry.host}/me/app:v1`], { env });
    expect(pushed.stderr).toBe("");
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toMatch(/v1: digest: sha256:[0-9a-f]{64} size: \d+/);

    const logout = await runCli(["logout", registry.host], { env });
    expect(logout.stdout).toBe(`Removing login credentials for ${registry.host}\n`);
    const again = await runCli(["push", `${registry.host}/me/app:v2-missing`], { env });
    expect(again.code).toBe(1);
    const deniedAgain = await runCli(["push", `${registry.host}/me/app:v1`], { env });
    expect(deniedAgain.code).toBe(1);
    expect(deniedAgain.stderr).toMatch(/unauthorized|denied|authentication required/i);
  });
});
