import { goQuote } from "../parser/quote.js";
import type { InstructionContext } from "./context.js";
import { goDurationError, parseGoDuration } from "./duration.js";
import { parseFlags } from "./flags.js";
import type { HealthcheckInstruction } from "./types.js";

/** MINIMUM_DURATION_NS is BuildKit's (docker's) smallest accepted non-zero HEALTHCHECK duration: 1ms. */
export const MINIMUM_DURATION_NS = 1e6;

/**
 * parseHealthcheck parses `HEALTHCHECK NONE` and `HEALTHCHECK [--interval=…] [--timeout=…]
 * [--start-period=…] [--start-interval=…] [--retries=N] CMD …`.
 */
export function parseHealthcheck(ctx: InstructionContext): HealthcheckInstruction {
  const args = ctx.node.args;
  if (args.length === 0) throw ctx.error("INVALID_ARGUMENTS", "HEALTHCHECK requires at least one argument");
  const typ = args[0]!.toUpperCase();
  const rest = args.slice(1);
  const health = {
    test: [] as string[],
    interval: 0,
    timeout: 0,
    startPeriod: 0,
    startInterval: 0,
    retries: 0,
  };
  if (typ === "NONE") {
    // BuildKit never parses the flags of HEALTHCHECK NONE, so even unknown ones are ignored there.
    if (rest.length !== 0)
      throw ctx.error("INVALID_ARGUMENTS", "HEALTHCHECK NONE takes no arguments", rest[0]);
    health.test = ["NONE"];
    return Object.assign(ctx.base("healthcheck"), { health });
  }
  const flags = parseFlags(ctx, {
    interval: "string",
    timeout: "string",
    "start-period": "string",
    "start-interval": "string",
    retries: "string",
  });
  if (typ !== "CMD") {
    throw ctx.error(
      "INVALID_ARGUMENTS",
      `Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`,
      args[0],
    );
  }
  if (rest.length === 0)
    throw ctx.error("INVALID_ARGUMENTS", "Missing command after HEALTHCHECK CMD", args[0]);
  health.test = ctx.node.json ? ["CMD", ...rest] : ["CMD-SHELL", rest.join(" ")];
  const duration = (name: string): number => {
    const v = flags.string(name);
    if (v === undefined || v === "") return 0;
    const ns = parseGoDuration(v);
    if (ns === undefined) {
      // Go's time.ParseDuration error, as BuildKit returns it
      throw ctx.error("INVALID_FLAG_VALUE", goDurationError(v), `--${name}`);
    }
    if (ns === 0) return 0;
    if (ns < MINIMUM_DURATION_NS) {
      throw ctx.error(
        "INVALID_FLAG_VALUE",
        `Interval ${JSON.stringify(name)} cannot be less than 1ms`,
        `--${name}`,
      );
    }
    return ns;
  };
  health.interval = duration("interval");
  health.timeout = duration("timeout");
  health.startPeriod = duration("start-period");
  health.startInterval = duration("start-interval");
  const retries = flags.string("retries");
  if (retries !== undefined && retries !== "") {
    // Go's strconv.ParseInt(v, 10, 32) errors, as BuildKit returns them
    const syntaxOk = /^[-+]?\d+$/.test(retries);
    if (!syntaxOk || Math.abs(Number(retries)) > 2147483647) {
      const why = syntaxOk ? "value out of range" : "invalid syntax";
      throw ctx.error(
        "INVALID_FLAG_VALUE",
        `strconv.ParseInt: parsing ${goQuote(retries)}: ${why}`,
        "--retries",
      );
    }
    const n = Number(retries);
    if (n < 0) throw ctx.error("INVALID_FLAG_VALUE", `--retries cannot be negative (${n})`, "--retries");
    health.retries = n;
  }
  return Object.assign(ctx.base("healthcheck"), { health });
}
