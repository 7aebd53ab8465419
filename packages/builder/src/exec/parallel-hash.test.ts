import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashFiles } from "./parallel-hash.js";

describe("hashFiles", () => {
  let dir: string;
  const files: { path: string; size: number; want: string }[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-phash-"));
    // Enough files to go parallel (workers), of uneven sizes, one of them over the 1 MiB read slice.
    for (let i = 0; i < 700; i++) {
      const data = Buffer.alloc(i === 5 ? 3 * 1024 * 1024 + 7 : (i * 37) % 5000, i % 251);
      const path = join(dir, `f${i}`);
      await writeFile(path, data);
      files.push({
        path,
        size: data.length,
        want: `sha256:${createHash("sha256").update(data).digest("hex")}`,
      });
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("gives every file's sha256 in order, in parallel or not, and null for one it cannot read", async () => {
    const missing = { path: join(dir, "gone"), size: 10 };
    const all = [...files.slice(0, 350), missing, ...files.slice(350)];
    const got = await hashFiles(all);
    expect(got).toEqual([
      ...files.slice(0, 350).map((f) => f.want),
      null,
      ...files.slice(350).map((f) => f.want),
    ]);
    // Few files: hashed on this thread, same answers.
    expect(await hashFiles(files.slice(0, 3))).toEqual(files.slice(0, 3).map((f) => f.want));
  });
});
