import type { Argv, CommandModule } from "yargs";
import { historyCommand } from "./image-history.js";
import { importCommand } from "./image-import.js";
import { inspectCommand } from "./image-inspect.js";
import { loadCommand } from "./image-load.js";
import { lsCommand } from "./image-ls.js";
import { pruneCommand } from "./image-prune.js";
import { rmCommand } from "./image-rm.js";
import { saveCommand } from "./image-save.js";
import type { StoreArgs } from "./image-store.js";
import { tagCommand } from "./image-tag.js";

/**
 * imageSubcommands are the `tsbuild image …` verbs over the local store, in
 * the order `tsbuild image --help` lists them (docker's).
 */
// biome-ignore lint/suspicious/noExplicitAny: yargs command modules have heterogeneous argument types
export const imageSubcommands: CommandModule<StoreArgs, any>[] = [
  historyCommand("history <image>"),
  importCommand("import <source> [reference]"),
  inspectCommand("inspect <images..>"),
  loadCommand("load"),
  lsCommand("ls [reference]", ["list"]),
  pruneCommand("prune"),
  rmCommand("rm <images..>", ["remove"]),
  saveCommand("save <images..>"),
  tagCommand("tag <source> <target>"),
];

/** imageCommand is `tsbuild image COMMAND`. */
export const imageCommand: CommandModule<StoreArgs, StoreArgs> = {
  command: "image",
  describe: "Manage images",
  builder: (y: Argv<StoreArgs>) => {
    let b = y.usage("Usage: tsbuild image COMMAND");
    for (const c of imageSubcommands) b = b.command(c);
    return b.demandCommand(1, "Give an image command; see tsbuild image --help.");
  },
  handler: () => {},
};

/** imageAliases are docker's top-level shortcuts: images, rmi, tag, save, load, history, import, inspect. */
// biome-ignore lint/suspicious/noExplicitAny: yargs command modules have heterogeneous argument types
export const imageAliases: CommandModule<StoreArgs, any>[] = [
  historyCommand("history <image>"),
  importCommand("import <source> [reference]"),
  inspectCommand("inspect <images..>"),
  lsCommand("images [reference]"),
  loadCommand("load"),
  rmCommand("rmi <images..>"),
  saveCommand("save <images..>"),
  tagCommand("tag <source> <target>"),
];
