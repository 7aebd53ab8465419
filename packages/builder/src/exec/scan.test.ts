import { createHash } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Known, literalPrefix, ScanAhead, scanFiles } from "./scan.js";

describe("scanFiles", () => {
  let dir: string;
  const files: { path: string; want: string; size: number }[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-scan-"));
    // Enough files for the worker pool, of uneven sizes, one over the 1 MiB read slice.
    for (let i = 0; i < 1300; i++) {
      const data = Buffer.alloc(i === 5 ? 3 * 1024 * 1024 + 7 : (i * 37) % 5000, i % 251);
      const path = join(dir, `f${i}`);
      await writeFile(path, data);
      files.push({
        path,
        size: data.length,
        want: `sha256:${createHash("sha256").update(data).digest("hex")}`,
      });
    }
    chmodSync(files[7]!.path, 0o751);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("gives every file's stat and sha256 in order, in workers or not, and null for one it cannot read", async () => {
    const gone = { path: join(dir, "gone") };
    const all = [...files.slice(0, 650).map((f) => ({ path: f.path })), gone, ...files.slice(650)];
    const got = await scanFiles(all);
    expect(got.map((r) => r?.digest ?? null)).toEqual([
      ...files.slice(0, 650).map((f) => f.want),
      null,
      ...files.slice(650).map((f) => f.want),
    ]);
    expect(got[7]!.stat.mode).toBe(0o100751);
    expect(got[5]!.stat.size).toBe(3 * 1024 * 1024 + 7);
    const st = lstatSync(files[9]!.path);
    expect(got[9]!.stat).toEqual({
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      dev: st.dev,
    });
    // Few files: scanned on this thread, same answers.
    expect((await scanFiles(files.slice(0, 3).map((f) => ({ path: f.path })))).map((r) => r?.digest)).toEqual(
      files.slice(0, 3).map((f) => f.want),
    );
  });

  it("does not read a file whose stat matches what the cache knows, and reads one whose stat changed", async () => {
    const st = lstatSync(files[1]!.path);
    const same: Known = [st.size, String(st.mtimeMs), st.ino, st.mode];
    const stale: Known = [st.size + 1, String(st.mtimeMs), st.ino, st.mode];
    const [a, b] = await scanFiles([
      { path: files[1]!.path, known: same },
      { path: files[1]!.path, known: stale },
    ]);
    expect(a).toEqual({ stat: expect.objectContaining({ size: st.size }) });
    expect(a!.digest).toBeUndefined();
    expect(b!.digest).toBe(files[1]!.want);
  });

  it("stats without reading what is asked statOnly, and refuses to follow a symlink as a file", async () => {
    const sub = join(dir, "sub");
    mkdirSync(sub);
    symlinkSync("f1", join(dir, "link"));
    const [d, l, asFile] = await scanFiles([
      { path: sub, statOnly: true },
      { path: join(dir, "link"), statOnly: true },
      { path: join(dir, "link") },
    ]);
    expect(d!.stat.mode & 0o170000).toBe(0o040000);
    expect(d!.digest).toBeUndefined();
    expect(l!.stat.mode & 0o170000).toBe(0o120000);
    expect(asFile).toBeNull();
  });
});

describe("ScanAhead", () => {
  it("scans the paths under its prefixes as they are listed, in batches once there are enough", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tsbuild-ahead-"));
    try {
      mkdirSync(join(dir, "app"));
      const names: string[] = [];
      for (let i = 0; i < 1200; i++) {
        await writeFile(join(dir, "app", `m${i}`), `module ${i}`);
        names.push(`app/m${i}`);
      }
      await writeFile(join(dir, "other"), "not copied");
      const ahead = new ScanAhead(["app"], (rel) => ({ path: join(dir, rel) }));
      ahead.entry("app", "directory");
      for (const n of names) ahead.entry(n, "file");
      ahead.entry("other", "file");
      const got = new Map(
        (await ahead.finish()).flatMap(({ rels, scanned }) => rels.map((r, i) => [r, scanned[i]] as const)),
      );
      expect(got.size).toBe(1201);
      expect(got.has("other")).toBe(false);
      expect(got.get("app")!.digest).toBeUndefined();
      expect(got.get("app/m17")!.digest).toBe(
        `sha256:${createHash("sha256").update("module 17").digest("hex")}`,
      );

      // Too few paths to fill a batch: nothing is scanned ahead (the step scans them itself).
      const small = new ScanAhead([""], (rel) => ({ path: join(dir, rel) }));
      small.entry("other", "file");
      expect(await small.finish()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes the literal part of a source before its first wildcard", () => {
    expect(literalPrefix(".")).toBe("");
    expect(literalPrefix("./")).toBe("");
    expect(literalPrefix("node_modules/")).toBe("node_modules");
    expect(literalPrefix("src/*/index.ts")).toBe("src");
    expect(literalPrefix("a/b/c.txt")).toBe("a/b/c.txt");
    expect(literalPrefix("*.json")).toBeUndefined();
    expect(literalPrefix("pkg/[ab]")).toBe("pkg");
  });
});
