import type { CommandModule } from "yargs";
import { buildCommand } from "./build.js";
import { builderCommand } from "./builder.js";
import { doctorCommand } from "./doctor.js";
import { imageAliases, imageCommand } from "./image.js";
import { loginCommand } from "./login.js";
import { logoutCommand } from "./logout.js";
import { pullCommand } from "./pull.js";
import { pushCommand } from "./push.js";

/**
 * commands lists every top-level command module; each lives in its own file
 * beside this one. Add new commands here.
 */
// biome-ignore lint/suspicious/noExplicitAny: yargs command modules have heterogeneous argument types
export const commands: CommandModule<any, any>[] = [
  buildCommand,
  builderCommand,
  doctorCommand,
  imageCommand,
  ...imageAliases,
  loginCommand,
  logoutCommand,
  pullCommand,
  pushCommand,
];
