import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Digest, digestOf } from "@tsbuild/oci";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobSources } from "./blob-sources.js";

describe("BlobSources", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-sources-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const a = digestOf("a");
  const b = digestOf("b");

  it("answers nothing before anything was recorded", async () => {
    expect(await new BlobSources(dir).repositories("r.example", a)).toEqual([]);
  });

  it("lists the repositories of one registry, most recent first, without duplicates", async () => {
    const s = new BlobSources(dir);
    await s.record("r.example", "lib/one", [a, b]);
    await s.record("other.example:5000", "lib/x", [a]);
    await s.record("r.example", "lib/two", [a]);
    await s.record("r.example", "lib/one", [a]);
    expect(await s.repositories("r.example", a)).toEqual(["lib/one", "lib/two"]);
    expect(await s.repositories("r.example", b)).toEqual(["lib/one"]);
    expect(await s.repositories("other.example:5000", a)).toEqual(["lib/x"]);
  });

  it("forgets a repository a mount showed gone, until it is recorded again", async () => {
    const s = new BlobSources(dir);
    await s.record("r.example", "lib/base", [a]);
    await s.record("r.example", "bench/old", [a]);
    await s.forget("r.example", "bench/old", [a]);
    expect(await s.repositories("r.example", a)).toEqual(["lib/base"]);
    await s.forget("r.example", "lib/base", [a]);
    expect((await s.load()).has(a)).toBe(false);
    await s.record("r.example", "bench/old", [a]);
    expect(await s.repositories("r.example", a)).toEqual(["bench/old"]);
  });

  it("skips damaged lines (a torn write, garbage) instead of failing a push", async () => {
    const s = new BlobSources(dir);
    await appendFile(s.path, `not-a-digest lib/x\n${a}\n${a.slice(0, 20)}`);
    await s.record("r.example", "lib/ok", [a]);
    expect(await s.repositories("r.example", a)).toEqual(["lib/ok"]);
    expect([...(await s.load()).keys()]).toEqual([a]);
  });

  describe("compaction", () => {
    const many = (n: number): Digest[] => Array.from({ length: n }, (_, i) => digestOf(`blob ${i}`));

    it("keeps the file bounded however often the same facts are recorded", async () => {
      const s = new BlobSources(dir, { compactBytes: 4096 });
      for (let i = 0; i < 200; i++) {
        await s.record("r.example", `lib/repo${i % 3}`, [a, b]);
        await s.forget("r.example", "lib/repo0", [b]);
      }
      expect((await stat(s.path)).size).toBeLessThan(2 * 4096 + 400);
      expect(await s.repositories("r.example", a)).toEqual(["lib/repo1", "lib/repo0", "lib/repo2"]);
      expect(await s.repositories("r.example", b)).toEqual(["lib/repo1", "lib/repo2"]);
    });

    it("keeps the order per blob and across blobs, within the per-blob and total bounds", async () => {
      const s = new BlobSources(dir, { maxPerBlob: 2, maxBlobs: 3 });
      const ds = many(5);
      for (const [i, d] of ds.entries()) await s.record("r.example", `lib/x${i}`, [d]);
      await s.record("r.example", "lib/y", [ds[0] as Digest]);
      await s.record("r.example", "lib/z", [ds[0] as Digest]);
      const before = await s.load();
      const kept = await s.compact();
      expect([...kept.keys()]).toEqual([ds[3], ds[4], ds[0]]);
      expect(kept.get(ds[0] as Digest)).toEqual(["r.example/lib/z", "r.example/lib/y"]);
      expect(await s.load()).toEqual(kept);
      expect(before.size).toBe(5);
      expect(
        (await readFile(s.path, "utf8")).split("\n").filter((l) => l.startsWith("sha256:")),
      ).toHaveLength(4);
    });

    it("drops the sources of blobs the store no longer has", async () => {
      const gone = new Set<Digest>([b]);
      const s = new BlobSources(dir, { hasBlob: async (d) => !gone.has(d) });
      await s.record("r.example", "lib/one", [a, b]);
      expect(await s.repositories("r.example", b)).toEqual(["lib/one"]);
      await s.compact();
      expect([...(await s.load()).keys()]).toEqual([a]);
    });

    it("loses no fact when writers in parallel trigger compactions", async () => {
      const ds = many(40);
      await Promise.all(
        ds.map((d, i) =>
          new BlobSources(dir, { compactBytes: 512 }).record("r.example", `lib/p${i}`, [d, a]),
        ),
      );
      const facts = await new BlobSources(dir).load();
      for (const [i, d] of ds.entries()) expect(facts.get(d)).toEqual([`r.example/lib/p${i}`]);
      expect(facts.get(a)?.length).toBeGreaterThanOrEqual(8);
      expect(await new BlobSources(dir).compact()).toEqual(
        new Map([...facts].map(([d, repos]) => [d, repos.slice(0, 8)])),
      );
    });
  });
});
