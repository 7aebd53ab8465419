import { execFileSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, readImage, tsb } from "./__fixtures__/image.js";

describe("image save / load", () => {
  it("save -o writes an archive that load reads back with the same ids and names", async () => {
    const root = await tempDir();
    const id = await importTree(root, "app:1");
    await tsb(root, ["tag", "app:1", "app:2"]);
    const work = await tempDir();
    const out = join(work, "app.tar");
    const saved = await tsb(root, ["image", "save", "-o", out, "app"]);
    expect(saved).toEqual({ code: 0, stdout: "", stderr: "" });
    const other = await tempDir();
    const loaded = await tsb(other, ["load", "-i", out]);
    expect(loaded.code).toBe(0);
    expect(loaded.stdout.split("\n").sort().join("|")).toBe("|Loaded image: app:1|Loaded image: app:2");
    expect((await tsb(other, ["images", "-q", "--no-trunc"])).stdout).toBe(`${id}\n${id}\n`);
  });

  it("save to stdout and load from stdin; by id the image has no names", async () => {
    const root = await tempDir();
    const id = await importTree(root, "app:1");
    const { PassThrough } = await import("node:stream");
    const { run } = await import("../cli.js");
    const chunks: Buffer[] = [];
    const stdout = new PassThrough();
    stdout.on("data", (c: Buffer) => chunks.push(c));
    const code = await run(["--root", root, "save", id.slice(7, 19)], { stdout, stderr: new PassThrough() });
    expect(code).toBe(0);
    const tar = Buffer.concat(chunks);
    expect(tar.length % 512).toBe(0);
    const other = await tempDir();
    const loaded = await tsb(other, ["image", "load"], { stdin: tar });
    expect(loaded).toEqual({ code: 0, stdout: `Loaded image ID: ${id}\n`, stderr: "" });
  });

  it("save into a missing directory, or of a layer whose stored blob was damaged, fails saying where", async () => {
    const root = await tempDir();
    const id = await importTree(root, "app:1");
    const work = await tempDir();
    const missing = await tsb(root, ["save", "-o", join(work, "nope", "x.tar"), "app:1"]);
    expect(missing).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error: failed to save image: invalid output path: directory "${join(work, "nope")}" does not exist\n`,
    });

    const layer = (await readImage(root, id)).manifest.layers[0]?.digest ?? "";
    const path = join(root, "blobs", "sha256", layer.slice("sha256:".length));
    const bytes = await readFile(path);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    const out = join(work, "x.tar");
    const damaged = await tsb(root, ["save", "-o", out, "app:1"]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain(
      `Error: ${root}: corrupt blob ${path}: ${layer}: blob content hashes to sha256:`,
    );
    await expect(readFile(out)).rejects.toMatchObject({ code: "ENOENT" });

    await rm(path);
    const gone = await tsb(root, ["save", "-o", out, "app:1"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`Error: ${root}: missing blob ${path}: ${layer}: blob not found`);
    await expect(readFile(out)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("load from an empty or cut-off stdin fails naming stdin, not a temp file, and stores nothing", async () => {
    const root = await tempDir();
    await importTree(root, "app:1");
    const work = await tempDir();
    const tar = join(work, "app.tar");
    await tsb(root, ["save", "-o", tar, "app:1"]);
    const other = await tempDir();
    expect(await tsb(other, ["load"], { stdin: Buffer.alloc(0) })).toEqual({
      code: 1,
      stdout: "",
      stderr: "Error: requested load from stdin, but stdin is empty\n",
    });
    const cut = await tsb(other, ["load"], { stdin: (await readFile(tar)).subarray(0, 3000) });
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/^Error: stdin(@\d+)?: /);
    expect(cut.stderr).not.toContain("tsbuild-load-");
    expect((await tsb(other, ["images", "-a", "-q"])).stdout).toBe("");
  });

  it("load says when a name moves off an older image; -q still prints the loaded names, as docker", async () => {
    const root = await tempDir();
    await importTree(root, "app:1", { SOURCE_DATE_EPOCH: "1000" });
    const work = await tempDir();
    const old = join(work, "old.tar");
    await tsb(root, ["save", "-o", old, "app:1"]);
    const other = await tempDir();
    const newer = await importTree(other, "app:1", { SOURCE_DATE_EPOCH: "2000" });
    void newer;
    const r = await tsb(other, ["load", "-i", old]);
    expect(r.stdout).toMatch(
      /^The image app:1 already exists, renaming the old one with ID sha256:[0-9a-f]{64} to empty string\nLoaded image: app:1\n$/,
    );
    // docker's -q only hides progress bars; scripts read "Loaded image: NAME" from `docker load -q`.
    expect((await tsb(other, ["load", "-q", "-i", old])).stdout).toBe("Loaded image: app:1\n");
  });

  it("loads an OCI archive written by skopeo (same layers)", async () => {
    const root = await tempDir();
    await importTree(root, "app:1");
    const work = await tempDir();
    await tsb(root, ["save", "-o", join(work, "d.tar"), "app:1"]);
    execFileSync(
      "skopeo",
      ["copy", `docker-archive:${join(work, "d.tar")}`, `oci-archive:${join(work, "o.tar")}`],
      {
        stdio: "ignore",
      },
    );
    const other = await tempDir();
    const r = await tsb(other, ["load", "-i", join(work, "o.tar")]);
    expect(r.code).toBe(0);
    const layers = async (dir: string, image: string) =>
      (await tsb(dir, ["inspect", "--format", "{{json .RootFS.Layers}}", image])).stdout;
    const loadedId = (await tsb(other, ["images", "-a", "-q", "--no-trunc"])).stdout.trim();
    expect(loadedId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await layers(other, loadedId)).toBe(await layers(root, "app:1"));
  });

  it("errors: missing image, junk archive, missing file", async () => {
    const root = await tempDir();
    const work = await tempDir();
    const missing = await tsb(root, ["save", "-o", join(work, "x.tar"), "ghost"]);
    expect(missing).toMatchObject({ code: 1, stderr: "Error: No such image: ghost:latest\n" });
    await writeFile(join(work, "junk.tar"), "not an archive".repeat(100));
    const junk = await tsb(root, ["load", "-i", join(work, "junk.tar")]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/^Error: /);
    expect((await tsb(root, ["load", "-i", join(work, "nope.tar")])).code).toBe(1);
    expect((await tsb(root, ["save"])).code).toBe(2);
  });
});
