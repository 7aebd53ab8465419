import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
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

  it("a non-empty directory that is not a store is refused, and nothing is written into it (--root /etc)", async () => {
    const root = await mkdtemp(join(tmpdir(), "store-root-"));
    await writeFile(join(root, "passwd"), "root:x:0:0::/root:/bin/sh\n");
    await mkdir(join(root, "ssl"));
    await expect(ImageStore.open({ root })).rejects.toMatchObject({
      code: "INVALID_LAYOUT",
      message: `${root}: not an image store: the directory is not empty ("passwd" and 1 more) and has no oci-layout file; give a new or empty directory, or an existing store`,
    });
    expect((await readdir(root)).sort()).toEqual(["passwd", "ssl"]);
  });

  it("an empty directory becomes a store, and a store opens again with its build cache beside it", async () => {
    const root = await mkdtemp(join(tmpdir(), "store-root-"));
    await (await ImageStore.open({ root })).close();
    await mkdir(join(root, "buildcache"));
    await (await ImageStore.open({ root })).close();
    expect((await readdir(root)).sort()).toEqual(["blobs", "buildcache", "index.json", "oci-layout"]);
  });

  it("an empty path is refused, not made with mkdir('')", async () => {
    await expect(ImageStore.open({ root: "" })).rejects.toMatchObject({ code: "INVALID_LAYOUT" });
  });

  it("a relative root is opened as an absolute path (builds hand it to runc and mount)", async () => {
    const root = await mkdtemp(join(tmpdir(), "store-root-"));
    const store = await ImageStore.open({ root: relative(process.cwd(), root) });
    await store.close();
    expect(store.root).toBe(root);
    expect((await readdir(root)).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
    await rm(root, { recursive: true });
  });
});
