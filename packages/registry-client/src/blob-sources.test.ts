import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf } from "@tsbuild/oci";
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
});
