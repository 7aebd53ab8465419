import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { tsb } from "./__fixtures__/image.js";

/**
 * issue 7: `load -i` of a missing file or a directory printed Node's raw
 * errors (`ENOENT … open`, `EISDIR … read` with no path); a text or empty
 * file said `tar ends without its end-of-archive blocks`. Each names the
 * path and says what is wrong, exit 1, nothing stored.
 */
describe("image load of something that is not an archive", () => {
  it.each([
    [
      "a missing file",
      async (d: string) => join(d, "nope.tar"),
      "no such file or directory while reading the archive",
    ],
    ["a directory", async (d: string) => d, "is a directory, not a tar archive"],
    [
      "a text file",
      async (d: string) => {
        await writeFile(join(d, "notes.txt"), "hello\n");
        return join(d, "notes.txt");
      },
      "not a tar archive (6 bytes, shorter than one tar header)",
    ],
    [
      "an empty file",
      async (d: string) => {
        await writeFile(join(d, "empty.tar"), "");
        return join(d, "empty.tar");
      },
      "not a tar archive (the file is empty)",
    ],
    [
      "a longer file of something else",
      async (d: string) => {
        await writeFile(join(d, "noise.bin"), randomBytes(4096));
        return join(d, "noise.bin");
      },
      "not a tar archive (it does not start with a tar header)",
    ],
    [
      "a broken gzip file",
      async (d: string) => {
        await writeFile(join(d, "bad.tar.gz"), Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5]));
        return join(d, "bad.tar.gz");
      },
      "not a gzip-compressed tar archive: unknown compression method",
    ],
    ["a device", async () => "/dev/null", "is not a regular file; give a tar archive, or pipe it to stdin"],
  ])("%s: names it and says what is wrong", async (_, make, message) => {
    const work = await tempDir();
    const input = await make(work);
    const root = join(await tempDir(), "store");
    const r = await tsb(root, ["load", "-i", input]);
    expect(r.stderr).toBe(`Error: ${input}: ${message}\n`);
    expect(r.code).toBe(1);
    expect((await tsb(root, ["images", "-a", "-q"])).stdout).toBe("");
  });

  it("text on stdin is not a tar archive", async () => {
    const root = await tempDir();
    const r = await tsb(root, ["load"], { stdin: "hello\n" });
    expect(r).toMatchObject({
      code: 1,
      stderr: "Error: stdin: not a tar archive (6 bytes, shorter than one tar header)\n",
    });
  });
});
