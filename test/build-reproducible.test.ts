import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../packages/cli/src/testing.js";
import { ensureTestUser, readableCheckout, runAsUser, type TestUser } from "./support/unprivileged.js";

/**
 * Two builds of the same inputs with SOURCE_DATE_EPOCH give the same image, bit for bit, whoever runs them:
 * root in one store, an unprivileged user in another (files a context holds are owned by whoever made them,
 * mtimes differ between checkouts; neither reaches the layer).
 */

describe("reproducible builds", () => {
  let user: TestUser;
  let work: string;
  let main: string;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("this test creates a user: run it as root (CI does)");
    user = await ensureTestUser();
    work = await mkdtemp(join(tmpdir(), "tsbuild-repro-"));
    await chmod(work, 0o755);
    // The checkout may sit where the user cannot read it: run a readable copy of the built CLI.
    main = await readableCheckout(work);
  }, 300_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function context(dir: string, owner?: TestUser): Promise<void> {
    await mkdir(join(dir, "src/sub"), { recursive: true, mode: 0o755 });
    await writeFile(
      join(dir, "Dockerfile"),
      'FROM scratch\nCOPY src/ /app/\nWORKDIR /app\nLABEL a=b\nCMD ["/app/run"]\n',
    );
    await writeFile(join(dir, "src/run"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    await writeFile(join(dir, "src/sub/data.txt"), "data\n");
    if (owner) execFileSync("chown", ["-R", `${owner.uid}:${owner.gid}`, dir]);
  }

  it("root and an ordinary user, two stores, two checkouts: the same image id and manifest", async () => {
    const rootCtx = join(work, "ctx-root");
    await context(rootCtx);
    const userCtx = join(work, "ctx-user");
    await mkdir(userCtx, { mode: 0o755 });
    await context(userCtx, user);

    const asRoot = await runCli([
      "--root",
      join(work, "store-root"),
      "build",
      "-q",
      "--build-arg",
      "SOURCE_DATE_EPOCH=1700000000",
      rootCtx,
    ]);
    expect(asRoot.stderr).toBe("");
    const store = join(work, "store-user");
    await mkdir(store, { mode: 0o700 });
    execFileSync("chown", [`${user.uid}:${user.gid}`, store]);
    const asUser = await runAsUser(
      user,
      process.execPath,
      [main, "--root", store, "build", "-q", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", userCtx],
      { env: { HOME: user.home, PATH: process.env.PATH ?? "/usr/bin:/bin" }, cwd: userCtx },
    );
    expect(asUser.stderr).toBe("");
    expect(asUser.code).toBe(0);
    expect(asUser.stdout).toBe(asRoot.stdout);
    expect(asRoot.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });
});
