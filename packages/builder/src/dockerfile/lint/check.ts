import { DockerfileError, isDockerfileError } from "../../errors.js";
import { planBuild } from "../../plan/plan.js";
import type { PlanOptions } from "../../plan/types.js";
import { type Dockerfile, parseDockerfilePrefix } from "../dockerfile.js";
import { LintConfigError, Linter, type LintWarning, parseLintConfig } from "./linter.js";
import { lintStatic } from "./static.js";

/**
 * CheckOptions are the build inputs a check uses. `allStages` defaults to "no target given", as in
 * BuildKit's lint; a normal build passes false to lint only what it builds.
 */
export interface CheckOptions extends Omit<PlanOptions, "linter"> {
  /** file names the Dockerfile in messages; default "Dockerfile". */
  file?: string;
}

/** CheckResult is what `build --check` reports. */
export interface CheckResult {
  /** warnings are sorted by line, then rule. */
  warnings: LintWarning[];
  /** error is a parse or plan error, or the `check=error=true` violation; undefined when the check passed. */
  error: DockerfileError | undefined;
  /** lines are the source split at every `\n` (a final newline gives a last empty line, as in Go), for snippets. */
  lines: readonly string[];
  /** errorOnWarning reflects `# check=error=true`. */
  errorOnWarning: boolean;
}

/**
 * checkDockerfile is `docker build --check`: parse and plan without building, collecting BuildKit's
 * lint findings. Without a target every stage is checked. The config comes from the `# check=`
 * directive, or from the BUILDKIT_DOCKERFILE_CHECK build arg, which wins.
 */
export function checkDockerfile(text: string | Uint8Array, options: CheckOptions = {}): CheckResult {
  const file = options.file ?? "Dockerfile";
  const lines = sourceLines(text);
  let df: Dockerfile;
  let parseError: DockerfileError | undefined;
  try {
    ({ dockerfile: df, error: parseError } = parseDockerfilePrefix(text, { file }));
  } catch (err) {
    // The syntax itself is broken: nothing to lint.
    if (!isDockerfileError(err)) throw err;
    return { warnings: [], error: err, lines, errorOnWarning: false };
  }
  const directive = df.directives.find((d) => d.name === "check");
  const fromArg = options.buildArgs?.BUILDKIT_DOCKERFILE_CHECK;
  let linter: Linter;
  try {
    linter = new Linter(parseLintConfig(fromArg ?? directive?.value));
  } catch (err) {
    if (!(err instanceof LintConfigError)) throw err;
    const line = fromArg === undefined && directive ? directive.line : 0;
    const error = new DockerfileError("INVALID_DIRECTIVE", `failed to parse check options: ${err.message}`, {
      file,
      line,
      column: line > 0 ? 1 : 0,
      ...(line > 0 && lines[line - 1] !== undefined ? { sourceLine: lines[line - 1] } : {}),
    });
    return { warnings: [], error, lines, errorOnWarning: false };
  }
  lintStatic(df, linter);
  let error: DockerfileError | undefined = parseError;
  if (parseError === undefined) {
    try {
      planBuild(df, { ...options, linter, allStages: options.allStages ?? options.target === undefined });
    } catch (err) {
      if (!isDockerfileError(err)) throw err;
      error = err;
    }
  }
  const violation = linter.violation();
  if (error === undefined && violation !== undefined) {
    error = new DockerfileError("LINT_VIOLATION", violation, { file, line: 0, column: 0 });
  }
  return { warnings: linter.sorted(), error, lines, errorOnWarning: linter.config.errorOnWarning };
}

/** sourceLines splits the source like BuildKit's snippet printer: at every `\n`, without a BOM or `\r`. */
function sourceLines(text: string | Uint8Array): string[] {
  const s = typeof text === "string" ? text : Buffer.from(text).toString("utf8");
  return s
    .replace(/^\uFEFF/, "")
    .split("\n")
    .map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}
