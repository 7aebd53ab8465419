import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ImageStore } from "./store.js";

describe("store root", () => {
  it.each([
    ["is a file", (file: string) => file],
    ["has a file as a parent", (file: string) => join(file, "store")],
  ])("a --root that %s is a clear error naming it", async (_name, rootOf) => {
    const file = join(await mkdtemp(join(tmpdir(), "store-root-")), "afile");
    await writeFile(file, "not a directory");
    const root = rootOf(file);
    await expect(ImageStore.open({ root })).rejects.toMatchObject({
      code: "INVALID_LAYOUT",
      message: `${root}: the image store must be a directory, and this path is not one`,
    });
  });
});
