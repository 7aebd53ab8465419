import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { selectBuildContext } from "../dockerfile/dockerignore/context.js";
import { ScanAhead } from "./scan.js";
import { ContextFs } from "./sources.js";
import { StatCache } from "./stat-cache.js";

let dir: string;
let ctx: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsbuild-ctxscan-"));
  ctx = join(dir, "ctx");
  // Enough files for the scan to go ahead in batches, in nested directories, with a symlink.
  for (let d = 0; d < 30; d++) {
    mkdirSync(join(ctx, "app", `pkg${d}`, "lib"), { recursive: true });
    for (let f = 0; f < 40; f++)
      writeFileSync(join(ctx, "app", `pkg${d}`, "lib", `m${f}.js`), `module ${d}/${f}\n`);
  }
  symlinkSync("pkg0/lib/m0.js", join(ctx, "app", "main.js"));
  writeFileSync(join(ctx, "README"), "not under app\n");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** open lists the context as a build does: scanned ahead under `prefixes` (none: every file read lazily). */
async function open(prefixes: string[], cacheFile: string): Promise<{ fs: ContextFs; cache: StatCache }> {
  const cache = await StatCache.open(cacheFile);
  const ahead = prefixes.length
    ? new ScanAhead(prefixes, (rel) => ({ path: join(ctx, rel), known: cache.known(rel) }))
    : undefined;
  const sel = await selectBuildContext({
    contextDir: ctx,
    ...(ahead ? { onEntry: (p: string, k: string) => ahead.entry(p, k) } : {}),
  });
  const fs = new ContextFs(sel.contextDir, sel.entries, cache);
  if (ahead) await fs.adopt(ahead.finish(), prefixes);
  return { fs, cache };
}

describe("ContextFs scanned ahead", () => {
  it("gives the same tree digest as reading every file lazily, and a changed file changes it", async () => {
    const lazy = await open([], join(dir, "lazy.tsv"));
    const want = lazy.fs.treeDigest("app");

    const ahead = await open(["app"], join(dir, "stats.tsv"));
    await ahead.fs.prehash(["app"]);
    expect(ahead.fs.treeDigest("app")).toBe(want);
    expect(ahead.fs.treeDigest(".")).toBe(lazy.fs.treeDigest("."));
    await ahead.cache.save();

    // A later build: the stat cache knows every file. Same answer; then one file changes (same size,
    // new mtime) and only that one is read again.
    const again = await open(["app"], join(dir, "stats.tsv"));
    expect(again.fs.treeDigest("app")).toBe(want);
    writeFileSync(join(ctx, "app", "pkg3", "lib", "m7.js"), "MODULE 3/7\n");
    utimesSync(join(ctx, "app", "pkg3", "lib", "m7.js"), new Date(), new Date(Date.now() + 5000));
    const changed = await open(["app"], join(dir, "stats.tsv"));
    const got = changed.fs.treeDigest("app");
    expect(got).not.toBe(want);
    expect(got).toBe((await open([], join(dir, "lazy2.tsv"))).fs.treeDigest("app"));
  });

  it("keeps the stat cache across a save, whatever the names hold", async () => {
    const file = join(dir, "names.tsv");
    const cache = await StatCache.open(file);
    const st = { size: 3, mtimeMs: 1700000000123.25, ino: 42, mode: 0o100644 };
    const names = ["plain", "tab\there", "new\nline", '"quoted"', "caf\u00e9", "bad\udc80byte"];
    for (const [i, n] of names.entries()) cache.set(n, st, `sha256:${String(i).repeat(64)}`);
    await cache.save();
    const back = await StatCache.open(file);
    for (const [i, n] of names.entries()) {
      expect(back.known(n)).toEqual([3, "1700000000123.25", 42, 0o100644]);
      expect(back.digest(n, st, () => "read again")).toBe(`sha256:${String(i).repeat(64)}`);
    }
    // A changed stat field is not the cached file.
    expect(back.digest("plain", { ...st, ino: 43 }, () => "read again")).toBe("read again");
  });

  it("starts empty from a torn or foreign cache file", async () => {
    const file = join(dir, "torn.tsv");
    writeFileSync(file, '{"old":"json"}\n"half\t3\t1\n');
    const cache = await StatCache.open(file);
    expect(cache.known("old")).toBeUndefined();
    expect(cache.known("half")).toBeUndefined();
  });
});
