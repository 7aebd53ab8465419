import type { InstructionContext } from "./context.js";
import { parseFlags } from "./flags.js";
import type {
  ExposeInstruction,
  MaintainerInstruction,
  StopsignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from "./types.js";

function exactlyOne(ctx: InstructionContext, name: string): string {
  parseFlags(ctx, {});
  const args = ctx.node.args;
  if (args.length !== 1)
    throw ctx.error("INVALID_ARGUMENTS", `${name} requires exactly one argument`, args[1]);
  return args[0]!;
}

/** parseMaintainer parses the deprecated MAINTAINER (the whole rest of the line). */
export function parseMaintainer(ctx: InstructionContext): MaintainerInstruction {
  return Object.assign(ctx.base("maintainer"), { maintainer: exactlyOne(ctx, "MAINTAINER") });
}

/** parseUser parses `USER user[:group]`. */
export function parseUser(ctx: InstructionContext): UserInstruction {
  return Object.assign(ctx.base("user"), { user: exactlyOne(ctx, "USER") });
}

/** parseWorkdir parses `WORKDIR path`. */
export function parseWorkdir(ctx: InstructionContext): WorkdirInstruction {
  return Object.assign(ctx.base("workdir"), { path: exactlyOne(ctx, "WORKDIR") });
}

/** parseStopsignal parses `STOPSIGNAL signal`. */
export function parseStopsignal(ctx: InstructionContext): StopsignalInstruction {
  return Object.assign(ctx.base("stopsignal"), { signal: exactlyOne(ctx, "STOPSIGNAL") });
}

/** parseExpose parses `EXPOSE port[/proto]…` (words unexpanded). */
export function parseExpose(ctx: InstructionContext): ExposeInstruction {
  parseFlags(ctx, {});
  if (ctx.node.args.length === 0)
    throw ctx.error("INVALID_ARGUMENTS", "EXPOSE requires at least one argument");
  // BuildKit's parseExpose sorts the words (Go's byte order, before expansion); that order reaches the
  // image history (`EXPOSE [1234/udp 2375/tcp 5000/tcp]`).
  const ports = [...ctx.node.args].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Object.assign(ctx.base("expose"), { ports });
}

/** parseVolume parses `VOLUME path…` or `VOLUME ["path", …]`. */
export function parseVolume(ctx: InstructionContext): VolumeInstruction {
  parseFlags(ctx, {});
  const args = ctx.node.args;
  if (args.length === 0) throw ctx.error("INVALID_ARGUMENTS", "VOLUME requires at least one argument");
  for (const a of args) {
    if (a.trim() === "") throw ctx.error("INVALID_ARGUMENTS", "VOLUME specified can not be an empty string");
  }
  return Object.assign(ctx.base("volume"), { paths: [...args] });
}
