import { parseReference } from "@tsbuild/oci";
import type { Dockerfile } from "../dockerfile/dockerfile.js";
import type {
  ArgInstruction,
  FromInstruction,
  Instruction,
  SourceLocation,
} from "../dockerfile/instructions/types.js";
import { ShellExpansionError, type ShellLex } from "../dockerfile/shell/lex.js";
import type { EnvList } from "./args.js";
import { errorAt } from "./located.js";

/** RawStage is a FROM and the instructions up to the next FROM. */
export interface RawStage {
  index: number;
  from: FromInstruction;
  instructions: Instruction[];
}

/** splitStages separates the global ARGs (before the first FROM) from the stages. */
export function splitStages(df: Dockerfile): { metaArgs: ArgInstruction[]; stages: RawStage[] } {
  const metaArgs: ArgInstruction[] = [];
  const stages: RawStage[] = [];
  for (const ins of df.instructions) {
    if (ins.kind === "from") {
      stages.push({ index: stages.length, from: ins, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.kind !== "arg") {
        throw errorAt(df.ast.lines, ins.location, "INVALID_ARGUMENTS", "no build stage in current context");
      }
      metaArgs.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  if (stages.length === 0) {
    const location = { file: df.file, startLine: 1, endLine: 1 };
    throw errorAt(df.ast.lines, location, "EMPTY_DOCKERFILE", "dockerfile contains no stages to build");
  }
  return { metaArgs, stages };
}

/** resolveMetaArgs applies the global ARGs in order: a build arg wins over the default, which is expanded. */
export function resolveMetaArgs(
  lex: ShellLex,
  lines: readonly string[],
  start: EnvList,
  metaArgs: readonly ArgInstruction[],
  buildArgs: Readonly<Record<string, string>>,
): { env: EnvList; declared: Set<string> } {
  let env = start;
  const declared = new Set<string>();
  for (const cmd of metaArgs) {
    for (const arg of cmd.args) {
      declared.add(arg.name);
      let value: string | undefined;
      if (Object.hasOwn(buildArgs, arg.name)) value = buildArgs[arg.name];
      else if (arg.default !== undefined) value = expandOrThrow(lex, lines, arg.default, env, cmd.location);
      if (value !== undefined) env = env.with(arg.name, value);
    }
  }
  return { env, declared };
}

function expandOrThrow(
  lex: ShellLex,
  lines: readonly string[],
  word: string,
  env: EnvList,
  location: SourceLocation,
): string {
  return expandWithMatches(lex, lines, word, env, location).result;
}

/** expandWithMatches expands a word, turning a lexer error into a DockerfileError at `location`. */
export function expandWithMatches(
  lex: ShellLex,
  lines: readonly string[],
  word: string,
  env: EnvList,
  location: SourceLocation,
) {
  try {
    return lex.processWordWithMatches(word, env);
  } catch (err) {
    if (err instanceof ShellExpansionError) {
      throw errorAt(lines, location, "INVALID_SUBSTITUTION", err.message, word || undefined);
    }
    throw err;
  }
}

/** isValidReference: would docker accept this as an image reference (InvalidDefaultArgInFrom)? */
export function isValidReference(ref: string): boolean {
  return referenceProblem(ref) === undefined;
}

/** referenceProblem is why `ref` is not an image reference (`invalid reference format: …`), if it is not. */
export function referenceProblem(ref: string): string | undefined {
  try {
    parseReference(ref);
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    const prefix = `${JSON.stringify(ref)}: `;
    return message.startsWith(prefix) ? message.slice(prefix.length) : message;
  }
}
