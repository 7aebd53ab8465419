import { execFileSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImageStore } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../packages/cli/src/testing.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

describe("tsbuild build against docker-registry", () => {
  let registry: TestRegistry;
  let dir: string;
  const env = (root: string) => ({ ...process.env, TSBUILD_ROOT: root, DOCKER_CONFIG: join(dir, "docker") });

  beforeAll(async () => {
    registry = await startRegistry();
    dir = await tempDir("tsbuild-build-registry-");
    const store = await ImageStore.open({ root: join(dir, "seed") });
    try {
      await makeTestImage(store, {
        layers: [fileLayer("bin", { sh: "shell" })],
        names: [`${registry.host}/library/base:1`],
      });
    } finally {
      await store.close();
    }
    const pushed = await runCli(["push", `${registry.host}/library/base:1`], { env: env(join(dir, "seed")) });
    expect(pushed.code).toBe(0);
    await writeFile(
      join(dir, "Dockerfile"),
      `FROM ${registry.host}/library/base:1\nCOPY a.txt /app/a.txt\nCMD ["/app"]\n`,
    );
    await writeFile(join(dir, "a.txt"), "a");
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pulls the base from its registry, builds, and --push pushes every tag (base layer mounted)", async () => {
    const name = `${registry.host}/me/app:1`;
    const r = await runCli(["build", "-t", name, "--push", dir], { env: env(join(dir, "fresh")) });
    expect(r.stderr).not.toContain("Error");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Successfully tagged .*\/me\/app:1\n1: digest: sha256:[0-9a-f]{64} size: \d+\n$/,
    );
    const config = JSON.parse(
      execFileSync("skopeo", ["inspect", "--tls-verify=false", "--config", `docker://${name}`], {
        encoding: "utf8",
      }),
    );
    expect(config.config.Cmd).toEqual(["/app"]);
    expect(config.rootfs.diff_ids).toHaveLength(2);
  });

  it("fails clearly on a base that is not in the registry, storing nothing", async () => {
    const ctx = await tempDir("tsbuild-build-nobase-");
    try {
      await writeFile(join(ctx, "Dockerfile"), `FROM ${registry.host}/library/nope:1\nCOPY . /\n`);
      const root = join(dir, "nobase");
      const r = await runCli(["build", "-t", "x:1", ctx], { env: env(root) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${registry.host}/library/nope:1`);
      expect(r.stderr).toMatch(/not found/);
      const ls = await runCli(["image", "ls", "-q"], { env: env(root) });
      expect(ls.stdout).toBe("");
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  });
});
