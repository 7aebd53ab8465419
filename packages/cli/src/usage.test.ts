import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "./testing.js";

/** Usage errors read as docker's: what is wrong with which command, its help, its usage line; exit 2. */
describe("usage errors", () => {
  const cases = [
    {
      args: ["image", "rm"],
      stderr:
        "tsbuild: \"tsbuild image rm\" requires at least 1 argument.\nSee 'tsbuild image rm --help'.\n\nUsage:  tsbuild image rm [OPTIONS] IMAGE [IMAGE...]\n\nRemove one or more images\n",
    },
    {
      args: ["tag", "only-one"],
      stderr:
        "tsbuild: \"tsbuild tag\" requires at least 2 arguments.\nSee 'tsbuild tag --help'.\n\nUsage:  tsbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nCreate a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n",
    },
    {
      args: ["image", "ls", "--bogus"],
      first: "tsbuild: unknown flag: --bogus\nSee 'tsbuild image ls --help'.\n",
    },
    {
      args: ["images", "--bogus=3"],
      first: "tsbuild: unknown flag: --bogus\nSee 'tsbuild images --help'.\n",
    },
    {
      args: ["image", "tag", "a", "b", "c"],
      first: "tsbuild: \"tsbuild image tag\" got unexpected arguments: c\nSee 'tsbuild image tag --help'.\n",
    },
    {
      args: ["pull"],
      first: "tsbuild: \"tsbuild pull\" requires at least 1 argument.\nSee 'tsbuild pull --help'.\n",
    },
    { args: ["bogus"], stderr: "tsbuild: 'bogus' is not a tsbuild command.\nSee 'tsbuild --help'.\n" },
    { args: ["--bogus"], stderr: "tsbuild: unknown flag: --bogus\nSee 'tsbuild --help'.\n" },
    // -x would take "image" as its value: docker stops at the unknown flag too.
    { args: ["-x", "image", "ls"], stderr: "tsbuild: unknown flag: -x\nSee 'tsbuild --help'.\n" },
    {
      args: ["image", "bogus"],
      stderr:
        "tsbuild: 'bogus' is not a tsbuild image command.\nSee 'tsbuild image --help'.\n\nUsage:  tsbuild image COMMAND\n\nManage images\n",
    },
    {
      args: ["builder", "bogus"],
      first: "tsbuild: 'bogus' is not a tsbuild builder command.\nSee 'tsbuild builder --help'.\n",
    },
    { args: ["image", "--bogus"], first: "tsbuild: unknown flag: --bogus\nSee 'tsbuild image --help'.\n" },
    {
      args: ["completion", "fish"],
      first:
        'tsbuild: invalid argument "fish" for "SHELL": choose from "bash", "zsh"\nSee \'tsbuild completion --help\'.\n',
    },
    {
      args: ["build", "--progress", "x", "."],
      first:
        'tsbuild: invalid argument "x" for "--progress" flag: choose from "auto", "plain", "tty", "json", "quiet"\n',
    },
  ];
  for (const c of cases) {
    it(`tsbuild ${c.args.join(" ")}`, async () => {
      const root = await tempDir();
      const r = await runCli(["--root", root, ...c.args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      if (c.stderr !== undefined) expect(r.stderr).toBe(c.stderr);
      if (c.first !== undefined) expect(r.stderr.startsWith(c.first)).toBe(true);
    });
  }
});
