import { readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../testing.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(): Promise<{ root: string; ctx: string }> {
  const root = await tempDir("tsbuild-builder-root-");
  const ctx = await tempDir("tsbuild-builder-ctx-");
  dirs.push(root, ctx);
  await writeFile(join(ctx, "Dockerfile"), 'FROM scratch\nCOPY a.txt /a.txt\nCMD ["/a"]\n');
  await writeFile(join(ctx, "a.txt"), "a");
  return { root, ctx };
}

const blobs = async (root: string) => (await readdir(join(root, "blobs", "sha256"))).length;

describe("tsbuild builder", () => {
  it("keeps the build cache through image rm, until builder prune -a drops it", async () => {
    const { root, ctx } = await setup();
    expect((await runCli(["--root", root, "build", "-q", "-t", "app:1", ctx])).code).toBe(0);
    expect((await runCli(["--root", root, "image", "rm", "app:1"])).code).toBe(0);
    expect(await blobs(root)).toBe(1); // the COPY layer, held by the cache

    const du = await runCli(["--root", root, "builder", "du"]);
    expect(du.code).toBe(0);
    expect(du.stdout).toMatch(
      /^ID +RECLAIMABLE +SIZE +LAST ACCESSED\n[0-9a-f]{25} +true +\d+B +Less than a second ago\n/,
    );

    const again = await runCli(["--root", root, "build", "--progress", "plain", "-t", "app:1", ctx]);
    expect(again.stderr).toContain("#1 CACHED");
    expect((await runCli(["--root", root, "image", "rm", "app:1"])).code).toBe(0);

    const pruned = await runCli(["--root", root, "builder", "prune", "-a", "-f"]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/^Deleted build cache objects:\n/);
    expect(await blobs(root)).toBe(0);
  });

  it("prune without -a spares the cache of layers an image still uses", async () => {
    const { root, ctx } = await setup();
    expect((await runCli(["--root", root, "build", "-q", "-t", "app:1", ctx])).code).toBe(0);
    const pruned = await runCli(["--root", root, "builder", "prune", "-f"]);
    expect(pruned.stdout).toBe("Total:\t0B\n");
    const again = await runCli(["--root", root, "build", "--progress", "plain", ctx]);
    expect(again.stderr).toContain("#1 CACHED");
  });
});
