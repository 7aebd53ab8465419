import { editDistance } from "../dockerfile/instructions/context.js";
import type { SourceLocation } from "../dockerfile/instructions/types.js";
import { DockerfileError, type DockerfileErrorCode } from "../errors.js";

/**
 * errorAt builds a DockerfileError for a planning problem: at the first line of the instruction that
 * holds `needle` (column of the needle), else at the instruction's first line, with that source line so
 * the error prints a caret.
 */
export function errorAt(
  lines: readonly string[],
  location: SourceLocation,
  code: DockerfileErrorCode,
  message: string,
  needle?: string,
): DockerfileError {
  const { file, startLine, endLine } = location;
  if (needle) {
    for (let l = startLine; l <= endLine; l++) {
      const col = (lines[l - 1] ?? "").indexOf(needle);
      if (col >= 0) {
        return new DockerfileError(code, message, {
          file,
          line: l,
          column: col + 1,
          sourceLine: lines[l - 1],
          endLine,
        });
      }
    }
  }
  const src = lines[startLine - 1];
  const col = src === undefined ? 0 : src.length - src.trimStart().length + 1;
  const position = { file, line: startLine, column: col, endLine };
  return new DockerfileError(code, message, src === undefined ? position : { ...position, sourceLine: src });
}

/** closest picks the candidate nearest to `word` (edit distance under 3), for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string {
  let best = "";
  let bestDistance = 3;
  for (const c of candidates) {
    if (c === word) continue;
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
