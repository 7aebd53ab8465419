import { BuildError } from "../../errors.js";
import { parseGoBool } from "../instructions/mount.js";
import type { SourceLocation } from "../instructions/types.js";
import type { LintRule } from "./rules.js";

/** LintConfig is a parsed `# check=` directive (or BUILDKIT_DOCKERFILE_CHECK build arg). */
export interface LintConfig {
  skip: ReadonlySet<string>;
  skipAll: boolean;
  experimental: ReadonlySet<string>;
  experimentalAll: boolean;
  /** errorOnWarning (`error=true`) makes any warning fail the build. */
  errorOnWarning: boolean;
}

/** LintConfigError is a malformed `# check=` value (code INVALID_DIRECTIVE); the caller adds the position. */
export class LintConfigError extends BuildError {
  override readonly name = "LintConfigError";
  constructor(message: string) {
    super("INVALID_DIRECTIVE", message);
  }
}

/**
 * parseLintConfig reads `skip=A,B;error=true;experimental=C` like BuildKit's ParseLintOptions: at most
 * two `;`-separated options, `skip=all`, Go boolean syntax for `error`.
 */
export function parseLintConfig(value: string | undefined): LintConfig {
  const config = {
    skip: new Set<string>(),
    skipAll: false,
    experimental: new Set<string>(),
    experimentalAll: false,
    errorOnWarning: false,
  };
  const text = (value ?? "").trim();
  if (text === "") return config;
  const semi = text.indexOf(";");
  const parts = semi < 0 ? [text] : [text.slice(0, semi), text.slice(semi + 1)];
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new LintConfigError(`invalid check option ${JSON.stringify(part)}`);
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    switch (key) {
      case "skip":
        if (v === "all") config.skipAll = true;
        else for (const r of v.split(",")) config.skip.add(r.trim());
        break;
      case "experimental":
        if (v === "all") config.experimentalAll = true;
        else for (const r of v.split(",")) config.experimental.add(r.trim());
        break;
      case "error": {
        const b = parseGoBool(v);
        if (b === undefined) {
          throw new LintConfigError(
            `failed to parse check option ${JSON.stringify(part)}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`,
          );
        }
        config.errorOnWarning = b;
        break;
      }
      default:
        throw new LintConfigError(`invalid check option ${JSON.stringify(key)}`);
    }
  }
  return config;
}

/** LintWarning is one finding: which rule, its message, and where. */
export interface LintWarning {
  rule: string;
  description: string;
  url: string;
  message: string;
  location: SourceLocation;
}

/**
 * Linter collects findings during parsing and planning. Rules skipped by the config are dropped;
 * experimental rules run only when enabled.
 */
export class Linter {
  readonly warnings: LintWarning[] = [];

  constructor(readonly config: LintConfig = parseLintConfig(undefined)) {}

  /** run records a finding of `rule` at `location`, unless the config skips it. */
  run<A extends unknown[]>(rule: LintRule<A>, location: SourceLocation, ...args: A): void {
    if (rule.experimental) {
      if (!this.config.experimentalAll && !this.config.experimental.has(rule.name)) return;
    } else if (this.config.skipAll || this.config.skip.has(rule.name)) {
      return;
    }
    this.warnings.push({
      rule: rule.name,
      description: rule.description,
      url: rule.url,
      message: rule.format(...args),
      location,
    });
  }

  /**
   * sorted returns the findings ordered by file and line, as docker prints them; findings on one line keep
   * the order they were made in (BuildKit's sort of a short list keeps it too), so that order follows
   * BuildKit's: parse-time rules, stage names, casing, then planning.
   */
  sorted(): LintWarning[] {
    return [...this.warnings].sort(
      (a, b) =>
        (a.location.file < b.location.file ? -1 : a.location.file > b.location.file ? 1 : 0) ||
        a.location.startLine - b.location.startLine,
    );
  }

  /**
   * violation returns BuildKit's `error=true` failure text (`lint violation found for rules: A, B`), or
   * undefined when the build may go on.
   */
  violation(): string | undefined {
    if (!this.config.errorOnWarning || this.warnings.length === 0) return undefined;
    const rules = [...new Set(this.warnings.map((w) => w.rule))];
    return `lint violation found for rules: ${rules.join(", ")}`;
  }
}
