import { describe, expect, it, vi } from "vitest";
import { tempDir } from "../testing.js";
import { imageAliases, imageSubcommands } from "./image.js";
import { commands } from "./index.js";
import { CommandNotLoaded, isLazyCommand, lazyCommand } from "./lazy.js";

describe("lazy commands", () => {
  // The list repeats each module's name, aliases and summary (help and usage errors show them unloaded).
  const all = [...commands, ...imageSubcommands, ...imageAliases].filter(isLazyCommand);
  for (const lazy of all) {
    it(`${lazy.command} matches its module`, async () => {
      const real = await lazy.load();
      expect({ command: lazy.command, aliases: lazy.aliases, describe: lazy.describe }).toEqual({
        command: real.command,
        aliases: real.aliases ?? [],
        describe: real.describe,
      });
    });
  }

  it("covers every command but the image group", () => {
    expect(commands.filter((c) => !isLazyCommand(c)).map((c) => c.command)).toEqual(["image"]);
  });

  it("refuses to build or run before its module is loaded", () => {
    const lazy = lazyCommand({
      command: "x",
      describe: "x",
      load: async () => ({ command: "x", handler: () => {} }),
    });
    const builder = lazy.builder as (y: never) => unknown;
    expect(() => builder({} as never)).toThrow(CommandNotLoaded);
    expect(() => lazy.handler({ _: [], $0: "" })).toThrow(CommandNotLoaded);
  });

  it("loads the command yargs matched when argv names it differently", async () => {
    // A value flag unknown at the top level hides `images` from the scan; yargs still runs it.
    vi.resetModules(); // fresh, unloaded command lists
    const { runCli } = await import("../testing.js");
    const root = await tempDir();
    const r = await runCli(["--format", "{{.ID}}", "images", "--root", root]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    const bad = await runCli(["--format", "x", "images", "--root", root, "--bogus"]);
    // A flag before the command is the top level's: docker's unknown flag.
    expect(bad).toEqual({
      code: 2,
      stdout: "",
      stderr: "tsbuild: unknown flag: --format\nSee 'tsbuild --help'.\n",
    });
  });
});
