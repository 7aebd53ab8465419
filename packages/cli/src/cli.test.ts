import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importTree, tsb } from "./commands/__fixtures__/image.js";
import { runCli, tempDir } from "./testing.js";

describe("top level", () => {
  it("unknown commands and subcommands exit 2", async () => {
    const root = await tempDir();
    for (const args of [["bogus"], ["image", "bogus"], ["builder", "bogus"]]) {
      const r = await tsb(root, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
    }
  });

  it("--version prints the package version, --help the verbs, both exit 0", async () => {
    const root = await tempDir();
    const { version } = JSON.parse(await readFile(join(import.meta.dirname, "..", "package.json"), "utf8"));
    for (const flag of ["--version", "-v"])
      expect(await tsb(root, [flag])).toEqual({
        code: 0,
        stdout: `tsbuild version ${version}, build unknown\n`,
        stderr: "",
      });
    const help = await tsb(root, ["--help"]);
    expect(help.code).toBe(0);
    for (const verb of ["image", "images", "history", "import", "inspect", "load", "rmi", "save", "tag"])
      expect(help.stdout).toMatch(new RegExp(`^  ${verb}\\b`, "m"));
    const image = await tsb(root, ["image", "--help"]);
    for (const verb of [
      "build",
      "history",
      "import",
      "inspect",
      "load",
      "ls",
      "prune",
      "pull",
      "push",
      "rm",
      "save",
      "tag",
    ])
      expect(image.stdout).toMatch(new RegExp(`^  ${verb}\\b`, "m"));
  });

  it("docker's aliases reach the same verbs", async () => {
    const root = await tempDir();
    const id = await importTree(root, "app:1");
    const ls = (args: string[]) => tsb(root, [...args, "-q", "--no-trunc"]);
    for (const args of [["images"], ["image", "ls"], ["image", "list"]])
      expect((await ls(args)).stdout).toBe(`${id}\n`);
    expect((await tsb(root, ["tag", "app:1", "app:2"])).code).toBe(0);
    expect((await tsb(root, ["image", "tag", "app:2", "app:3"])).code).toBe(0);
    expect((await tsb(root, ["rmi", "app:2"])).stdout).toBe("Untagged: app:2\n");
    expect((await tsb(root, ["image", "remove", "app:3"])).stdout).toBe("Untagged: app:3\n");
    expect((await tsb(root, ["image", "rm", "app:1"])).stdout).toMatch(/^Untagged: app:1\nDeleted: /);
  });
});

describe("--root", () => {
  it("an empty --root is a usage error (exit 2), not mkdir('')", async () => {
    const r = await runCli(["--root", "", "image", "ls"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tsbuild: --root needs a directory; it was given an empty string\n/);
  });

  it("a non-empty directory that is not a store is refused for every command, and nothing is written into it", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "hosts"), "127.0.0.1 localhost\n");
    for (const args of [
      ["image", "ls"],
      ["image", "prune", "-f"],
      ["import", dir, "x:1"],
    ]) {
      const r = await tsb(dir, args);
      expect(r.stderr, args.join(" ")).toBe(
        `Error: ${dir}: not an image store: the directory is not empty ("hosts") and has no oci-layout file; give a new or empty directory, or an existing store\n`,
      );
      expect(r.code).toBe(1);
    }
    const viaEnv = await runCli(["image", "ls"], { env: { ...process.env, TSBUILD_ROOT: dir } });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toMatch(/not an image store: the directory is not empty/);
    expect(await readdir(dir)).toEqual(["hosts"]);
  });
});
