import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadRegistrySettings, tsbuildConfigFile } from "./config.js";
import { isRegistryError } from "./errors.js";

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
