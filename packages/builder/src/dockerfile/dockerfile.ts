import { type DockerfileError, isDockerfileError } from "../errors.js";
import { parseInstruction } from "./instructions/parse.js";
import type { Instruction } from "./instructions/types.js";
import type { Directive, ParsedDockerfile, ParseWarning } from "./parser/ast.js";
import { parse } from "./parser/parser.js";

/** DockerfileParseOptions name the file for errors and locations. */
export interface DockerfileParseOptions {
  /** file is shown in errors (`Dockerfile:3:1: …`); default "Dockerfile". */
  file?: string;
}

/** Dockerfile is a parsed and validated Dockerfile: directives, typed instructions in order, warnings. */
export interface Dockerfile {
  file: string;
  directives: Directive[];
  escapeToken: "\\" | "`";
  /** instructions are in source order; splitting them into stages is the planner's job. */
  instructions: Instruction[];
  warnings: ParseWarning[];
  /** ast is the untyped parse, with the source lines. */
  ast: ParsedDockerfile;
}

/**
 * parseDockerfile parses Dockerfile text into typed instructions. Any problem, syntax or semantic,
 * throws a DockerfileError with file:line:column and the offending line.
 */
export function parseDockerfile(text: string | Uint8Array, options: DockerfileParseOptions = {}): Dockerfile {
  const { dockerfile, error } = parseDockerfilePrefix(text, options);
  if (error) throw error;
  return dockerfile;
}

/**
 * parseDockerfilePrefix is parseDockerfile that stops at the first instruction that does not parse and
 * returns the instructions before it with that error (a broken syntax still throws). BuildKit lints
 * instructions as it parses them, so `--check` reports the findings above a bad instruction.
 */
export function parseDockerfilePrefix(
  text: string | Uint8Array,
  options: DockerfileParseOptions = {},
): { dockerfile: Dockerfile; error?: DockerfileError } {
  const file = options.file ?? "Dockerfile";
  const ast = parse(text, { file });
  const instructions: Instruction[] = [];
  let error: DockerfileError | undefined;
  for (const node of ast.children) {
    try {
      instructions.push(parseInstruction(node, { file, lines: ast.lines }));
    } catch (err) {
      if (!isDockerfileError(err)) throw err;
      error = err;
      break;
    }
  }
  const dockerfile = {
    file,
    directives: ast.directives,
    escapeToken: ast.escapeToken,
    instructions,
    warnings: ast.warnings,
    ast,
  };
  return error ? { dockerfile, error } : { dockerfile };
}
