import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, makeTree, tsb } from "./__fixtures__/image.js";
import { bindReadOnly, expectCleanFailure, tsbuildProcess, unmount } from "./__fixtures__/media.js";

/**
 * issue 7, item 4: a store on a read-only file system (a read-only bind
 * mount). Reading needs no write (no temp file, no lock, no size cache);
 * every write says the store is read-only, in one line, exit 1.
 */
describe("a store on a read-only file system", () => {
  let ro: string | undefined;
  let archive: string;

  beforeAll(async () => {
    const src = await tempDir();
    await importTree(src, "app:1");
    const other = await tempDir();
    await importTree(other, "other:1");
    archive = join(await tempDir(), "other.tar");
    expect((await tsb(other, ["save", "-o", archive, "other:1"])).code).toBe(0);
    ro = await bindReadOnly(src);
  });
  afterAll(async () => {
    await unmount(ro);
  });

  it("ls, inspect, history and save work and write nothing", async () => {
    const before = await readdir(ro!);
    const out = await tempDir();
    const ls = tsbuildProcess(ro!, ["image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]);
    expect(ls.stderr).toBe("");
    expect(ls.stdout).toMatch(/^app:1 \d+B\n$/);
    for (const args of [
      ["image", "inspect", "app:1"],
      ["history", "app:1"],
      ["save", "-o", join(out, "app.tar"), "app:1"],
    ]) {
      const r = tsbuildProcess(ro!, args);
      expect(r.stderr, args.join(" ")).toBe("");
      expect(r.code).toBe(0);
    }
    expect(await readdir(ro!)).toEqual(before);
  });

  it.each([
    ["tag", () => ["tag", "app:1", "app:2"]],
    ["rmi", () => ["rmi", "app:1"]],
    ["image prune", () => ["image", "prune", "-a", "-f"]],
    ["load", () => ["load", "-i", archive]],
  ])("%s says the store is read-only", (_, args) => {
    const r = tsbuildProcess(ro!, args());
    expectCleanFailure(r, new RegExp(`^Error: ${ro}: the image store is read-only, cannot `));
  });

  it("import says the store is read-only", async () => {
    const r = tsbuildProcess(ro!, ["import", await makeTree(), "new:1"]);
    expectCleanFailure(r, new RegExp(`^Error: ${ro}: the image store is read-only, cannot `));
  });
});
