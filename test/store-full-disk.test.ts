import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importTree, makeTree, tsb } from "../packages/cli/src/commands/__fixtures__/image.js";
import {
  expectCleanFailure,
  mountTmpfs,
  tsbuildProcess,
  unmount,
} from "../packages/cli/src/commands/__fixtures__/media.js";
import { tempDir } from "../packages/cli/src/testing.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/**
 * issue 7, item 1: a store on a full disk. A blob that does not fit fails
 * with one clear error and exit 1 (it crashed with an unhandled ENOSPC stack
 * trace), its temp file is removed (a 21 MB one stayed and made every later
 * command fail), and reading the store works on a disk with no byte free.
 */
describe("a store on a full disk (an 8 MB tmpfs)", () => {
  let mnt: string | undefined;
  let root: string;
  let bigTree: string;
  let bigTar: string;
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
    bigTree = await tempDir("tsbuild-bigtree-");
    // Incompressible, so the layer is bigger than the disk.
    await writeFile(join(bigTree, "noise"), randomBytes(12 << 20));
    const src = await tempDir();
    expect((await tsb(src, ["import", bigTree, `${registry.host}/big/img:1`])).code).toBe(0);
    bigTar = join(await tempDir(), "big.tar");
    expect((await tsb(src, ["save", "-o", bigTar, `${registry.host}/big/img:1`])).code).toBe(0);
    expect((await tsb(src, ["push", `${registry.host}/big/img:1`])).code).toBe(0);
    mnt = await mountTmpfs(8);
    root = join(mnt, "store");
    await importTree(root, "small:1");
  });
  afterAll(async () => {
    await unmount(mnt);
    await registry?.stop();
  });

  const debris = async () => (await readdir(join(root, ".tmp")).catch(() => [])).sort();

  it.each([
    ["load -i", () => ["load", "-i", bigTar]],
    ["import", () => ["import", bigTree, "s/big:1"]],
    ["pull", () => ["pull", `${registry.host}/big/img:1`]],
  ])("%s of more than fits: 'no space left on device', exit 1, no temp file left", (_, args) => {
    return (async () => {
      const r = tsbuildProcess(root, args());
      expectCleanFailure(r, new RegExp(`no space left on device while writing a blob to ${root}\n`));
      expect(await debris()).toEqual([]);
      const ls = tsbuildProcess(root, ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
      expect(ls).toMatchObject({ code: 0, stdout: "small:1\n" });
    })();
  });

  it("with no byte free, ls, inspect, history and save work; with space again, import, rmi and prune do", async () => {
    const filler = join(mnt!, "filler");
    const h = await open(filler, "w");
    const chunk = Buffer.alloc(1 << 20, 1);
    try {
      for (;;) await h.write(chunk);
    } catch (err) {
      expect(err).toMatchObject({ code: "ENOSPC" });
    } finally {
      await h.close();
    }
    const out = await tempDir();
    for (const args of [
      ["image", "ls"],
      ["image", "inspect", "small:1"],
      ["history", "small:1"],
      ["save", "-o", join(out, "small.tar"), "small:1"],
    ]) {
      const r = tsbuildProcess(root, args);
      expect(r.stderr, args.join(" ")).toBe("");
      expect(r.code).toBe(0);
    }
    await rm(filler);
    const tree = await makeTree();
    await mkdir(join(tree, "more"));
    for (const args of [
      ["import", tree, "other:1"],
      ["rmi", "small:1"],
      ["image", "prune", "-a", "-f"],
    ]) {
      const r = tsbuildProcess(root, args);
      expect(r.stderr, args.join(" ")).toBe("");
      expect(r.code).toBe(0);
    }
    expect(tsbuildProcess(root, ["image", "ls", "-q"]).stdout).toBe("");
  });
});
