import type { Argv, CommandModule } from "yargs";
import type { StoreArgs } from "./image-store.js";
import { type LazyCommand, lazyCommand } from "./lazy.js";

// Each verb's module is imported only when argv names it (lazy.ts): `image ls` never loads import's builder.
// build, pull and push are also top-level commands (index.ts), as docker's.
export const build = () =>
  lazyCommand({
    command: "build <context>",
    describe: "Build an image from a Dockerfile (--check: lint it without building)",
    load: async () => (await import("./build.js")).buildCommand,
  });
export const pull = () =>
  lazyCommand({
    command: "pull <name>",
    describe: "Download an image from a registry",
    load: async () => (await import("./pull.js")).pullCommand,
  });
export const push = () =>
  lazyCommand({
    command: "push <name>",
    describe: "Upload an image to a registry",
    load: async () => (await import("./push.js")).pushCommand,
  });
const appender = (command: string) =>
  lazyCommand({
    command,
    describe: "Append directories or tarballs to an image as layers",
    load: async () => (await import("./image-append.js")).appendCommand(command),
  });
const copier = (command: string) =>
  lazyCommand({
    command,
    describe: "Copy an image or index between registry repositories",
    load: async () => (await import("./image-copy.js")).copyCommand(command),
  });
const history = (command: string) =>
  lazyCommand({
    command,
    describe: "Show the history of an image",
    load: async () => (await import("./image-history.js")).historyCommand(command),
  });
const importer = (command: string) =>
  lazyCommand({
    command,
    describe: "Import the contents from a tarball or directory to create a filesystem image",
    load: async () => (await import("./image-import.js")).importCommand(command),
  });
const inspect = (command: string) =>
  lazyCommand({
    command,
    describe: "Display detailed information on one or more images",
    load: async () => (await import("./image-inspect.js")).inspectCommand(command),
  });
const load = (command: string) =>
  lazyCommand({
    command,
    describe: "Load images from a tar archive (docker-archive or OCI archive, plain or gzip) or STDIN",
    load: async () => (await import("./image-load.js")).loadCommand(command),
  });
const ls = (command: string, aliases: string[] = []) =>
  lazyCommand({
    command,
    aliases,
    describe: "List images",
    load: async () => (await import("./image-ls.js")).lsCommand(command, aliases),
  });
const prune = (command: string) =>
  lazyCommand({
    command,
    describe: "Remove unused images",
    load: async () => (await import("./image-prune.js")).pruneCommand(command),
  });
const rm = (command: string, aliases: string[] = []) =>
  lazyCommand({
    command,
    aliases,
    describe: "Remove one or more images",
    load: async () => (await import("./image-rm.js")).rmCommand(command, aliases),
  });
const save = (command: string) =>
  lazyCommand({
    command,
    describe: "Save one or more images to a tar archive (docker-archive that is also an OCI layout)",
    load: async () => (await import("./image-save.js")).saveCommand(command),
  });
const tag = (command: string) =>
  lazyCommand({
    command,
    describe: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    load: async () => (await import("./image-tag.js")).tagCommand(command),
  });

/**
 * imageSubcommands are the `tsbuild image …` verbs, in
 * the order `tsbuild image --help` lists them (docker's).
 */
export const imageSubcommands: LazyCommand[] = [
  build(),
  history("history <image>"),
  importer("import <source> [reference]"),
  inspect("inspect <images..>"),
  load("load"),
  ls("ls [reference]", ["list"]),
  prune("prune"),
  pull(),
  push(),
  rm("rm <images..>", ["remove"]),
  save("save <images..>"),
  tag("tag <source> <target>"),
  // Not docker's: crane's verbs, after docker's list.
  appender("append"),
  copier("copy <source> <destination>"),
];

/** imageCommand is `tsbuild image COMMAND`. */
export const imageCommand: CommandModule<StoreArgs, StoreArgs> = {
  command: "image",
  describe: "Manage images",
  builder: (y: Argv<StoreArgs>) => {
    let b = y;
    for (const c of imageSubcommands) b = b.command(c);
    return b.demandCommand(1, "give a command");
  },
  handler: () => {},
};

/** imageAliases are docker's top-level shortcuts: images, rmi, tag, save, load, history, import, inspect. */
export const imageAliases: LazyCommand[] = [
  history("history <image>"),
  importer("import <source> [reference]"),
  inspect("inspect <images..>"),
  ls("images [reference]"),
  load("load"),
  rm("rmi <images..>"),
  save("save <images..>"),
  tag("tag <source> <target>"),
];
