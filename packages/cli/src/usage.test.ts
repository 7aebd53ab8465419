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
