import type { InstructionContext } from "./context.js";
import { parseFlags } from "./flags.js";
import type { FromInstruction } from "./types.js";

/** VALID_STAGE_NAME is BuildKit's rule for `AS name` (after lower-casing). */
const VALID_STAGE_NAME = /^[a-z][a-z0-9\-_.]*$/;

/** parseFrom parses `FROM [--platform=…] image [AS name]`. */
export function parseFrom(ctx: InstructionContext): FromInstruction {
  const flags = parseFlags(ctx, { platform: "string" });
  const args = ctx.node.args;
  const out: FromInstruction = Object.assign(ctx.base("from"), { image: args[0] ?? "" });
  if (args.length === 3 && args[1]!.toLowerCase() === "as") {
    const raw = args[2]!;
    const name = raw.toLowerCase();
    if (!VALID_STAGE_NAME.test(name)) {
      throw ctx.error(
        "INVALID_ARGUMENTS",
        `invalid name for build stage: ${JSON.stringify(raw)}, name can't start with a number or contain symbols`,
        raw,
      );
    }
    out.stageName = name;
    out.stageNameRaw = raw;
    out.asKeyword = args[1]!;
  } else if (args.length === 3) {
    throw ctx.error(
      "INVALID_ARGUMENTS",
      `FROM expects "AS" before the stage name, got ${JSON.stringify(args[1])}`,
      args[1],
    );
  } else if (args.length !== 1) {
    throw ctx.error("INVALID_ARGUMENTS", "FROM requires either one or three arguments");
  }
  const platform = flags.string("platform");
  if (platform !== undefined) {
    if (platform === "") throw ctx.error("INVALID_FLAG_VALUE", "--platform requires a value", "--platform");
    out.platform = platform;
  }
  return out;
}
