import type { Dockerfile } from "../dockerfile.js";
import type { Instruction, SourceLocation } from "../instructions/types.js";
import type { Linter } from "./linter.js";
import * as rules from "./rules.js";

const isSelfConsistent = (s: string) => s === s.toLowerCase() || s === s.toUpperCase();

/**
 * lintStatic runs the checks BuildKit makes while parsing, before any planning: empty continuation
 * lines, FROM/AS casing, stage-name casing, MAINTAINER, reserved and duplicate stage names, and
 * instruction casing against the majority.
 */
export function lintStatic(df: Dockerfile, linter: Linter): void {
  for (const w of df.warnings) {
    if (w.rule === rules.NoEmptyContinuation.name) {
      // BuildKit places this finding on the instruction's last line, where its parser notices it.
      linter.run(rules.NoEmptyContinuation, { file: df.file, startLine: w.endLine, endLine: w.endLine });
    }
  }

  const seen = new Set<string>();
  let inStage = false;
  const stageInstructions: Instruction[] = [];
  for (const ins of df.instructions) {
    if (ins.kind === "from") {
      inStage = true;
      lintFrom(ins, linter, seen);
    } else if (ins.kind === "arg") {
      lintDescription(
        "ARG",
        ins.args.map((a) => a.name),
        ins,
        linter,
      );
    } else if (ins.kind === "maintainer") {
      linter.run(rules.MaintainerDeprecated, ins.location);
    }
    // Global ARGs (before the first FROM) do not count for casing, as in BuildKit.
    if (inStage) stageInstructions.push(ins);
  }
  lintCasing(stageInstructions, linter);
}

function lintFrom(ins: Extract<Instruction, { kind: "from" }>, linter: Linter, seen: Set<string>): void {
  const raw = ins.stageNameRaw;
  if (raw !== undefined && raw !== raw.toLowerCase()) linter.run(rules.StageNameCasing, ins.location, raw);
  const as = ins.asKeyword;
  if (as !== undefined && isSelfConsistent(ins.keyword)) {
    const fromLower = ins.keyword === ins.keyword.toLowerCase();
    const asMatches = fromLower ? as === as.toLowerCase() : as === as.toUpperCase();
    if (!asMatches) linter.run(rules.FromAsCasing, ins.location, ins.keyword, as);
  }
  const name = ins.stageName;
  if (name !== undefined) lintDescription("FROM", [name], ins, linter);
  // BuildKit checks stage names after parsing, so on one line these come after the parse-time rules.
  if (name !== undefined) {
    if (name === "context" || name === "scratch") linter.run(rules.ReservedStageName, ins.location, name);
    if (seen.has(name)) linter.run(rules.DuplicateStageName, ins.location, name);
    seen.add(name);
  }
}

/**
 * lintDescription is the experimental InvalidDefinitionDescription: a comment right above `FROM … AS name`
 * or `ARG name` is a description and should start with that name.
 */
function lintDescription(
  instruction: string,
  names: readonly string[],
  ins: Instruction,
  linter: Linter,
): void {
  const comments = ins.node.comments;
  const last = comments[comments.length - 1];
  // An empty `#` line ends a description block (BuildKit's parser drops the comments above it).
  if (last === undefined || last === "" || names.length === 0) return;
  const first = last.split(" ")[0];
  if (names.includes(first ?? "")) return;
  linter.run(
    rules.InvalidDefinitionDescription,
    ins.location,
    instruction,
    names.length > 1 ? "<arg_key>" : names[0]!,
  );
}

function lintCasing(instructions: readonly Instruction[], linter: Linter): void {
  let lower = 0;
  let upper = 0;
  for (const ins of instructions) {
    if (!isSelfConsistent(ins.keyword)) continue;
    if (ins.keyword === ins.keyword.toLowerCase()) lower++;
    else upper++;
  }
  const majorityLower = lower > upper;
  for (const ins of instructions) check(ins.keyword, ins.location);

  function check(name: string, location: SourceLocation) {
    if (majorityLower && name !== name.toLowerCase()) {
      linter.run(rules.ConsistentInstructionCasing, location, name, "lowercase");
    } else if (!majorityLower && name !== name.toUpperCase()) {
      linter.run(rules.ConsistentInstructionCasing, location, name, "uppercase");
    }
  }
}
