import type { InstructionContext } from "./context.js";
import { parseGoDuration } from "./duration.js";
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
      throw ctx.error(
        "INVALID_FLAG_VALUE",
        `invalid duration ${JSON.stringify(v)} for --${name} (use e.g. 30s, 1m30s)`,
        `--${name}`,
      );
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
    if (!/^[-+]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2147483647) {
      throw ctx.error(
        "INVALID_FLAG_VALUE",
        `invalid value ${JSON.stringify(retries)} for --retries: expected an integer`,
        "--retries",
      );
    }
    const n = Number(retries);
    if (n < 0) throw ctx.error("INVALID_FLAG_VALUE", `--retries cannot be negative (${n})`, "--retries");
    health.retries = n;
  }
  return Object.assign(ctx.base("healthcheck"), { health });
}
