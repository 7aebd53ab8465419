import type { CommandModule } from "yargs";
import { build, imageAliases, imageCommand, pull, push } from "./image.js";
import { lazyCommand } from "./lazy.js";

/**
 * commands lists every top-level command; each lives in its own file beside
 * this one, imported only when argv names it (lazy.ts), so `tsbuild image ls`
 * never loads the registry client or the builder. Add new commands here, with
 * the `command`, `aliases` and `describe` of their module (lazy.test.ts checks them).
 */
// biome-ignore lint/suspicious/noExplicitAny: yargs command modules have heterogeneous argument types
export const commands: CommandModule<any, any>[] = [
  build(),
  lazyCommand({
    command: "builder <command>",
    describe: "Manage the build cache",
    load: async () => (await import("./builder.js")).builderCommand,
  }),
  lazyCommand({
    command: "completion <shell>",
    describe: "Print the shell completion script for bash or zsh",
    load: async () => (await import("./completion.js")).completionCommand,
  }),
  lazyCommand({
    command: "doctor",
    describe: "Check what RUN steps need (runc, user namespaces, subuid ranges, overlay) and how to fix it",
    load: async () => (await import("./doctor.js")).doctorCommand,
  }),
  imageCommand,
  ...imageAliases,
  lazyCommand({
    command: "login [server]",
    describe: "Log in to a registry (default Docker Hub)",
    load: async () => (await import("./login.js")).loginCommand,
  }),
  lazyCommand({
    command: "logout [server]",
    describe: "Log out from a registry (default Docker Hub)",
    load: async () => (await import("./logout.js")).logoutCommand,
  }),
  pull(),
  push(),
  lazyCommand({
    command: "run <image> [command..]",
    describe: "Create and run a new container from an image",
    load: async () => (await import("./run.js")).runCommand,
  }),
  lazyCommand({
    command: "system <command>",
    describe: "Manage the store's disk use",
    load: async () => (await import("./system.js")).systemCommand,
  }),
  lazyCommand({
    command: "version",
    describe: "Show the tsbuild version information",
    load: async () => (await import("./version.js")).versionCommand,
  }),
];
