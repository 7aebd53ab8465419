import type { CheckResult } from "./check.js";
import type { LintWarning } from "./linter.js";

/**
 * sourceSnippet prints the lines around a finding like BuildKit's errdefs.Source.Print: the finding's
 * lines marked `>>>` inside dashed rules, padded by BuildKit's loop (two lines each side of a one-line
 * finding, one around a longer one; fewer at the file's edges). `lines` are the file split at every
 * `\n`, so a final newline gives a last empty line, as in Go.
 */
export function sourceSnippet(lines: readonly string[], startLine: number, endLine: number): string {
  if (startLine < 1 || startLine > lines.length) return "";
  let start = startLine;
  let end = Math.min(endLine, lines.length);
  const pad = start === end ? 4 : 2;
  // The same arithmetic as BuildKit (each round costs one more than the lines it adds).
  for (let p = 0; p < pad; p++) {
    if (start > 1) {
      start--;
      p++;
    }
    if (end !== lines.length) {
      end++;
      p++;
    }
  }
  let out = "--------------------\n";
  for (let i = start; i <= end; i++) {
    const mark = i >= startLine && i <= endLine ? ">>>" : "   ";
    out += ` ${String(i).padStart(3)} | ${mark} ${lines[i - 1]}\n`;
  }
  return `${out}--------------------\n`;
}

/**
 * formatWarning prints one finding as `docker build --check` does: `WARNING: Rule - URL`, the message,
 * `file:line`, then the source around it.
 */
export function formatWarning(w: LintWarning, lines: readonly string[]): string {
  const snippet = sourceSnippet(lines, w.location.startLine, w.location.endLine);
  const where = snippet ? `${w.location.file}:${w.location.startLine}\n` : "";
  return `WARNING: ${w.rule}${w.url ? ` - ${w.url}` : ""}\n${w.message}\n${where}${snippet}`;
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
