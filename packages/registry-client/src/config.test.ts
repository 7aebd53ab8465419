import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRegistryClient, loadRegistrySettings, tsbuildConfigFile } from "./config.js";
import { isRegistryError } from "./errors.js";
import { DEFAULT_TIMEOUTS } from "./transport/timeouts.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsbuild-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadRegistrySettings", () => {
  it("finds the config file under XDG_CONFIG_HOME, TSBUILD_CONFIG winning", () => {
    expect(tsbuildConfigFile({ XDG_CONFIG_HOME: "/x" })).toBe("/x/tsbuild/config.json");
    expect(tsbuildConfigFile({ HOME: "/h" })).toBe("/h/.config/tsbuild/config.json");
    expect(tsbuildConfigFile({ TSBUILD_CONFIG: "/c.json", XDG_CONFIG_HOME: "/x" })).toBe("/c.json");
  });

  it("merges the config file, the environment and flags", async () => {
    await mkdir(join(dir, "tsbuild"));
    await writeFile(
      join(dir, "tsbuild", "config.json"),
      JSON.stringify({
        "insecure-registries": ["file.example:5000"],
        "registry-mirrors": ["https://mirror.example"],
        "registry-ca": ["/file-ca.pem"],
        "certs-dir": "/file-certs.d",
        unrelated: true,
      }),
    );
    const settings = loadRegistrySettings({
      env: {
        XDG_CONFIG_HOME: dir,
        TSBUILD_INSECURE_REGISTRIES: "env.example, 10.0.0.0/8",
        TSBUILD_REGISTRY_MIRRORS: "http://localhost:6000",
        TSBUILD_REGISTRY_CA: "/env-ca.pem",
      },
      flags: { insecureRegistries: ["flag.example"], caFiles: ["/flag-ca.pem"] },
    });
    expect(settings).toEqual({
      insecureRegistries: ["file.example:5000", "env.example", "10.0.0.0/8", "flag.example"],
      mirrors: ["https://mirror.example", "http://localhost:6000"],
      caFiles: ["/file-ca.pem", "/env-ca.pem", "/flag-ca.pem"],
      certsDir: "/file-certs.d",
    });
    expect(
      loadRegistrySettings({ env: { XDG_CONFIG_HOME: dir, TSBUILD_CERTS_DIR: "/env-certs" } }).certsDir,
    ).toBe("/env-certs");
  });

  it("reads the timeouts from the config file, the environment and flags, the last one set winning", async () => {
    const file = join(dir, "c.json");
    await writeFile(
      file,
      JSON.stringify({
        "registry-connect-timeout": 5,
        "registry-headers-timeout": "1m",
        "registry-speed-limit": "2k",
        "registry-speed-time": 20,
      }),
    );
    const env = { TSBUILD_REGISTRY_HEADERS_TIMEOUT: "45s", TSBUILD_REGISTRY_SPEED_LIMIT: "512" };
    expect(loadRegistrySettings({ configFile: file, env: {} }).timeouts).toEqual({
      connectMs: 5000,
      headersMs: 60_000,
      speedLimit: 2048,
      speedTimeMs: 20_000,
    });
    const settings = loadRegistrySettings({
      configFile: file,
      env,
      timeoutFlags: { "registry-speed-time": "1500ms", "registry-connect-timeout": "0" },
    });
    expect(settings.timeouts).toEqual({
      connectMs: 0,
      headersMs: 45_000,
      speedLimit: 512,
      speedTimeMs: 1500,
    });
    const client = createRegistryClient({
      configFile: file,
      env,
      timeoutFlags: { "registry-speed-time": "7" },
    });
    try {
      expect(client.timeouts).toEqual({
        connectMs: 5000,
        headersMs: 45_000,
        speedLimit: 512,
        speedTimeMs: 7000,
      });
    } finally {
      await client.close();
    }
    const defaults = createRegistryClient({ env: { XDG_CONFIG_HOME: dir } });
    try {
      expect(defaults.timeouts).toEqual(DEFAULT_TIMEOUTS);
    } finally {
      await defaults.close();
    }
  });

  it.each([
    [
      { env: { TSBUILD_REGISTRY_CONNECT_TIMEOUT: "soon" } },
      /TSBUILD_REGISTRY_CONNECT_TIMEOUT: "soon" is not a duration/,
    ],
    [{ timeoutFlags: { "registry-speed-limit": "fast" } }, /--registry-speed-limit: "fast" is not a rate/],
    [
      { timeoutFlags: { "registry-headers-timeout": -1 } },
      /--registry-headers-timeout: -1 is not a duration/,
    ],
  ])("rejects a timeout setting that is not a duration or rate: %j", (options, message) => {
    let err: unknown;
    try {
      loadRegistrySettings({ configFile: join(dir, "none.json"), env: {}, ...options });
    } catch (e) {
      err = e;
    }
    expect(isRegistryError(err, "CONFIG_INVALID")).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it("is empty without any configuration", () => {
    expect(loadRegistrySettings({ env: { XDG_CONFIG_HOME: dir } })).toEqual({
      insecureRegistries: [],
      mirrors: [],
      caFiles: [],
    });
  });

  it.each([
    ["{broken", /not a valid JSON object/],
    ['{"insecure-registries": "one"}', /"insecure-registries" must be an array of strings/],
    ['{"certs-dir": 1}', /"certs-dir" must be a string/],
    ['{"registry-speed-time": "forever"}', /"registry-speed-time": "forever" is not a duration/],
    ['{"registry-connect-timeout": true}', /"registry-connect-timeout": true is not a number or a string/],
  ])("rejects %s", async (text, message) => {
    const file = join(dir, "c.json");
    await writeFile(file, text);
    let err: unknown;
    try {
      loadRegistrySettings({ configFile: file, env: {} });
    } catch (e) {
      err = e;
    }
    expect(isRegistryError(err, "CONFIG_INVALID")).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(file);
  });
});
