import type { InstructionContext } from "./context.js";
import { parseFlags } from "./flags.js";
import type { CmdInstruction, CommandLine, EntrypointInstruction, ShellInstruction } from "./types.js";

/** commandLine turns argument nodes into a CommandLine: exec form keeps argv, shell form one string. */
export function commandLine(args: string[], json: boolean): CommandLine {
  if (json) return { form: "exec", args: [...args], prependShell: false };
  return { form: "shell", args: args.length === 0 ? [] : [args.join(" ")], prependShell: true };
}

/** parseCmd parses CMD; `CMD []` is allowed and clears the inherited command. */
export function parseCmd(ctx: InstructionContext): CmdInstruction {
  parseFlags(ctx, {});
  return Object.assign(ctx.base("cmd"), { command: commandLine(ctx.node.args, ctx.node.json) });
}

/** parseEntrypoint parses ENTRYPOINT; `ENTRYPOINT []` is allowed and clears it. */
export function parseEntrypoint(ctx: InstructionContext): EntrypointInstruction {
  parseFlags(ctx, {});
  return Object.assign(ctx.base("entrypoint"), { command: commandLine(ctx.node.args, ctx.node.json) });
}

/** parseShell parses SHELL, which takes only the JSON form with at least one element. */
export function parseShell(ctx: InstructionContext): ShellInstruction {
  parseFlags(ctx, {});
  if (!ctx.node.json) {
    throw ctx.error("INVALID_ARGUMENTS", "SHELL requires the arguments to be in JSON form", ctx.node.args[0]);
  }
  if (ctx.node.args.length === 0)
    throw ctx.error("INVALID_ARGUMENTS", "SHELL requires at least one argument");
  return Object.assign(ctx.base("shell"), { shell: [...ctx.node.args] });
}
