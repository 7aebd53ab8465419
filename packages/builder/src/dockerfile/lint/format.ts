import type { CheckResult } from "./check.js";
import type { LintWarning } from "./linter.js";

/**
 * sourceSnippet prints the lines around a finding like BuildKit does: up to two lines of context each
 * side (four around a one-line finding), the finding's lines marked `>>>`, inside dashed rules.
 */
export function sourceSnippet(lines: readonly string[], startLine: number, endLine: number): string {
  if (startLine < 1 || startLine > lines.length) return "";
  let start = startLine;
  let end = Math.min(endLine, lines.length);
  const pad = start === end ? 4 : 2;
  let added = 0;
  while (added < pad && (start > 1 || end < lines.length)) {
    if (start > 1) {
      start--;
      added++;
    }
    if (end < lines.length && added < pad) {
      end++;
      added++;
    }
  }
  let out = "--------------------\n";
  for (let i = start; i <= end; i++) {
    const mark = i >= startLine && i <= endLine ? ">>>" : "   ";
    out += ` ${String(i).padStart(3)} | ${mark} ${lines[i - 1]}\n`;
  }
  return `${out}--------------------\n`;
}

/** formatWarning prints one finding: `WARNING: Rule - Dockerfile:3`, its message, then the source. */
export function formatWarning(w: LintWarning, lines: readonly string[]): string {
  const where = `${w.location.file}:${w.location.startLine}`;
  return `WARNING: ${w.rule} - ${where}\n${w.message}\n${sourceSnippet(lines, w.location.startLine, w.location.endLine)}`;
}

/**
 * formatCheckReport prints what `docker build --check` prints on its standard output: the summary
 * line, then each warning after a blank line. Errors are printed separately (see DockerfileError.format).
 */
export function formatCheckReport(result: CheckResult): string {
  const n = result.warnings.length;
  if (n === 0) return result.error ? "" : "Check complete, no warnings found.\n";
  let out = `Check complete, ${n === 1 ? "1 warning has" : `${n} warnings have`} been found!\n`;
  for (const w of result.warnings) out += `\n${formatWarning(w, result.lines)}`;
  return out;
}
