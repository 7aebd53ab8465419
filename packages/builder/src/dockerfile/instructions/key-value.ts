import type { InstructionContext } from "./context.js";
import { parseFlags } from "./flags.js";
import type { ArgDeclaration, ArgInstruction, EnvInstruction, KeyValue, LabelInstruction } from "./types.js";

function pairs(ctx: InstructionContext, name: string): KeyValue[] {
  parseFlags(ctx, {});
  const args = ctx.node.args;
  if (args.length === 0) throw ctx.error("INVALID_ARGUMENTS", `${name} requires at least one argument`);
  if (args.length % 3 !== 0) throw ctx.error("INVALID_ARGUMENTS", `Bad input to ${name}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i + 2 < args.length; i += 3) {
    const key = args[i]!;
    if (key === "") throw ctx.error("INVALID_ARGUMENTS", `${name} names can not be blank`);
    out.push({ key, value: args[i + 1]!, legacy: args[i + 2] === "" });
  }
  return out;
}

/** parseEnv parses ENV in both forms (`ENV k=v k2="v 2"` and legacy `ENV k v…`), values unexpanded. */
export function parseEnv(ctx: InstructionContext): EnvInstruction {
  return Object.assign(ctx.base("env"), { pairs: pairs(ctx, "ENV") });
}

/** parseLabel parses LABEL in both forms, values unexpanded. */
export function parseLabel(ctx: InstructionContext): LabelInstruction {
  return Object.assign(ctx.base("label"), { pairs: pairs(ctx, "LABEL") });
}

/** parseArg parses `ARG name[=default] …` (several per line); defaults keep their quotes. */
export function parseArg(ctx: InstructionContext): ArgInstruction {
  parseFlags(ctx, {});
  const words = ctx.node.args;
  if (words.length === 0) throw ctx.error("INVALID_ARGUMENTS", "ARG requires at least one argument");
  const args: ArgDeclaration[] = words.map((w) => {
    const eq = w.indexOf("=");
    const name = eq < 0 ? w : w.slice(0, eq);
    if (name === "") throw ctx.error("INVALID_ARGUMENTS", "ARG names can not be blank", w);
    return eq < 0 ? { name } : { name, default: w.slice(eq + 1) };
  });
  return Object.assign(ctx.base("arg"), { args });
}
