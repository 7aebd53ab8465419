import type { InstructionNode } from "../parser/ast.js";
import { parseCmd, parseEntrypoint, parseShell } from "./command.js";
import { InstructionContext, suggest } from "./context.js";
import { parseAdd, parseCopy } from "./copy.js";
import { parseFlags } from "./flags.js";
import { parseFrom } from "./from.js";
import { parseHealthcheck } from "./healthcheck.js";
import { parseArg, parseEnv, parseLabel } from "./key-value.js";
import { parseRun } from "./run.js";
import {
  parseExpose,
  parseMaintainer,
  parseStopsignal,
  parseUser,
  parseVolume,
  parseWorkdir,
} from "./simple.js";
import type { Instruction, InstructionKind, OnbuildInstruction, OnbuildTrigger } from "./types.js";

type Parser = (ctx: InstructionContext) => Instruction;

const PARSERS: Record<Exclude<InstructionKind, "onbuild">, Parser> = {
  from: parseFrom,
  run: parseRun,
  cmd: parseCmd,
  label: parseLabel,
  maintainer: parseMaintainer,
  expose: parseExpose,
  env: parseEnv,
  add: parseAdd,
  copy: parseCopy,
  entrypoint: parseEntrypoint,
  volume: parseVolume,
  user: parseUser,
  workdir: parseWorkdir,
  arg: parseArg,
  stopsignal: parseStopsignal,
  healthcheck: parseHealthcheck,
  shell: parseShell,
};

/** INSTRUCTION_KINDS lists every Dockerfile instruction keyword (lower-case). */
export const INSTRUCTION_KINDS: readonly InstructionKind[] = [
  ...Object.keys(PARSERS),
  "onbuild",
] as InstructionKind[];

/** InstructionSource is where the nodes come from, for error positions. */
export interface InstructionSource {
  file: string;
  /** lines are the physical source lines (ParsedDockerfile.lines). */
  lines: readonly string[];
}

/**
 * parseInstruction turns one AST node into a typed instruction, validating every flag and argument.
 * It throws a DockerfileError that points at the offending text.
 */
export function parseInstruction(node: InstructionNode, source: InstructionSource): Instruction {
  const ctx = new InstructionContext(node, source.file, source.lines);
  if (node.keyword === "onbuild") return parseOnbuild(ctx, source);
  const parser = Object.hasOwn(PARSERS, node.keyword)
    ? PARSERS[node.keyword as keyof typeof PARSERS]
    : undefined;
  if (!parser) {
    throw ctx.error(
      "UNKNOWN_INSTRUCTION",
      `unknown instruction: ${node.rawKeyword}${suggest(node.keyword, INSTRUCTION_KINDS).toUpperCase().replace("(DID YOU MEAN", "(did you mean")}`,
      node.rawKeyword,
    );
  }
  return parser(ctx);
}

function parseOnbuild(ctx: InstructionContext, source: InstructionSource): OnbuildInstruction {
  parseFlags(ctx, {});
  const sub = ctx.node.sub;
  if (!sub) throw ctx.error("INVALID_ARGUMENTS", "ONBUILD requires at least one argument");
  const upper = sub.keyword.toUpperCase();
  if (upper === "ONBUILD") {
    throw ctx.error(
      "INVALID_ONBUILD",
      "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
      sub.rawKeyword,
    );
  }
  if (upper === "FROM" || upper === "MAINTAINER") {
    throw ctx.error("INVALID_ONBUILD", `${upper} isn't allowed as an ONBUILD trigger`, sub.rawKeyword);
  }
  const trigger = parseInstruction(sub, source) as OnbuildTrigger;
  // heredoc bodies go into the expression, so the trigger re-parses in full in the child image
  let expression = sub.original;
  for (const h of ctx.node.heredocs) expression += `\n${h.content}${h.name}`;
  return Object.assign(ctx.base("onbuild"), { trigger, expression });
}
