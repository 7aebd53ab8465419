import type { InstructionContext } from "./context.js";
import { suggest } from "./context.js";

/** FlagType is how a flag takes its value: a boolean switch, a string, or a repeatable string. */
export type FlagType = "bool" | "string" | "strings";

/** FlagValues are the parsed flags; absent flags are not in the map. */
export class FlagValues {
  constructor(private readonly values: Map<string, string[]>) {}

  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : v[v.length - 1] === "true";
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return v?.[v.length - 1];
  }

  strings(name: string): string[] {
    return [...(this.values.get(name) ?? [])];
  }

  has(name: string): boolean {
    return this.values.has(name);
  }
}

/**
 * parseFlags validates the node's `--flags` against the instruction's spec, like BuildKit's BFlags:
 * unknown flags, repeated non-repeatable flags, missing values and non-boolean values are errors.
 */
export function parseFlags(ctx: InstructionContext, spec: Record<string, FlagType>): FlagValues {
  const values = new Map<string, string[]>();
  for (const flag of ctx.node.flags) {
    if (!flag.startsWith("--")) {
      throw ctx.error("INVALID_FLAG_VALUE", `arg should start with -- : ${flag}`, flag);
    }
    const body = flag.slice(2);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const hasValue = eq >= 0;
    const value = hasValue ? body.slice(eq + 1) : "";
    const type = Object.hasOwn(spec, name) ? spec[name] : undefined;
    const keyword = ctx.node.keyword.toUpperCase();
    if (type === undefined) {
      const known = Object.keys(spec);
      throw ctx.error(
        "UNKNOWN_FLAG",
        `unknown flag: ${name} for ${keyword}${suggest(name, known, "--")}${known.length === 0 ? ` (${keyword} takes no flags)` : ""}`,
        `--${name}`,
      );
    }
    const prior = values.get(name);
    if (prior && type !== "strings")
      throw ctx.error("DUPLICATE_FLAG", `duplicate flag specified: ${name}`, `--${name}`);
    let v: string;
    if (type === "bool") {
      if (hasValue && value === "")
        throw ctx.error("INVALID_FLAG_VALUE", `missing a value on flag: ${name}`, `--${name}`);
      const lower = value.toLowerCase();
      if (lower === "" || lower === "true") v = "true";
      else if (lower === "false") v = "false";
      else {
        throw ctx.error(
          "INVALID_FLAG_VALUE",
          `expecting boolean value for flag ${name}, not: ${value}`,
          `--${name}`,
        );
      }
    } else {
      if (!hasValue) throw ctx.error("INVALID_FLAG_VALUE", `missing a value on flag: ${name}`, `--${name}`);
      v = value;
    }
    values.set(name, [...(prior ?? []), v]);
  }
  return new FlagValues(values);
}
