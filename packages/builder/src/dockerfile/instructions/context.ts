import { DockerfileError, type DockerfileErrorCode } from "../../errors.js";
import type { InstructionNode } from "../parser/ast.js";
import type { InstructionBase, InstructionKind, SourceLocation } from "./types.js";

/**
 * InstructionContext is what a per-instruction parser gets: the node and the means to raise an error
 * that points at the offending text (`needle`) in the source lines.
 */
export class InstructionContext {
  constructor(
    readonly node: InstructionNode,
    readonly file: string,
    private readonly lines: readonly string[],
  ) {}

  get location(): SourceLocation {
    return { file: this.file, startLine: this.node.startLine, endLine: this.node.endLine };
  }

  /** base fills the fields every instruction carries. */
  base<K extends InstructionKind>(kind: K): InstructionBase<K> {
    return {
      kind,
      location: this.location,
      original: this.node.original,
      keyword: this.node.rawKeyword,
      node: this.node,
    };
  }

  /**
   * error builds a DockerfileError at the first occurrence of `needle` in the instruction's lines (the
   * first needle found, when several are given), else at the keyword.
   */
  error(
    code: DockerfileErrorCode,
    message: string,
    needles?: string | (string | undefined)[],
  ): DockerfileError {
    const { startLine, endLine } = this.node;
    const at = (l: number) => this.lines[l - 1] ?? "";
    for (const needle of Array.isArray(needles) ? needles : [needles]) {
      if (!needle) continue;
      for (let l = startLine; l <= endLine; l++) {
        const col = at(l).indexOf(needle);
        if (col >= 0) {
          return new DockerfileError(code, message, {
            file: this.file,
            line: l,
            column: col + 1,
            sourceLine: at(l),
            endLine,
          });
        }
      }
    }
    const src = at(startLine);
    let col = src.toLowerCase().indexOf(this.node.rawKeyword.toLowerCase());
    if (col < 0) col = 0;
    return new DockerfileError(code, message, {
      file: this.file,
      line: startLine,
      column: col + 1,
      sourceLine: src,
      endLine,
    });
  }
}

/** editDistance is a small Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** suggest returns ` (did you mean X?)` for the closest candidate within distance 2, else "". */
export function suggest(word: string, candidates: readonly string[], prefix = ""): string {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best === undefined ? "" : ` (did you mean ${prefix}${best}?)`;
}
