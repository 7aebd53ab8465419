import { DockerfileError } from "../../errors.js";
import { ParseProblem } from "../parser/problem.js";
import { commandLine } from "./command.js";
import type { InstructionContext } from "./context.js";
import { parseFlags } from "./flags.js";
import { parseMount } from "./mount.js";
import type { NetworkMode, RunInstruction, RunMount, SecurityMode } from "./types.js";

const NETWORKS: readonly NetworkMode[] = ["default", "none", "host"];
const SECURITY: readonly SecurityMode[] = ["sandbox", "insecure"];

/** parseRun parses RUN with `--mount`, `--network` and `--security`, and attaches its heredocs. */
export function parseRun(ctx: InstructionContext): RunInstruction {
  const flags = parseFlags(ctx, { mount: "strings", network: "string", security: "string" });
  const mounts = flags.strings("mount").map((raw) => {
    try {
      return parseMount(raw);
    } catch (e) {
      if (e instanceof ParseProblem) throw ctx.error(e.code, e.message, [e.needle, raw, "--mount"]);
      throw e;
    }
  });
  const network = flags.string("network") ?? "default";
  if (!(NETWORKS as readonly string[]).includes(network)) {
    throw ctx.error(
      "INVALID_FLAG_VALUE",
      `unsupported network mode ${JSON.stringify(network)} (expected default, none or host)`,
      "--network",
    );
  }
  const security = flags.string("security") ?? "sandbox";
  if (!(SECURITY as readonly string[]).includes(security)) {
    throw ctx.error(
      "INVALID_FLAG_VALUE",
      `unsupported security mode ${JSON.stringify(security)} (expected sandbox or insecure)`,
      "--security",
    );
  }
  if (ctx.node.args.length === 0) throw ctx.error("INVALID_ARGUMENTS", "RUN requires at least one argument");
  return Object.assign(ctx.base("run"), {
    command: commandLine(ctx.node.args, ctx.node.json),
    mounts,
    network: network as NetworkMode,
    security: security as SecurityMode,
    heredocs: ctx.node.heredocs.map((h) => ({ ...h })),
  });
}

/**
 * resolveMounts re-parses the mounts of a RUN after variable expansion (BuildKit expands mount values
 * in the stage's scope). Errors point at the RUN line.
 */
export function resolveMounts(run: RunInstruction, expand: (value: string) => string): RunMount[] {
  return run.mounts.map((m) => {
    try {
      return parseMount(m.raw, { expand });
    } catch (e) {
      if (e instanceof ParseProblem) {
        // BuildKit's text as is (no `--mount=…:` prefix); the location names the RUN.
        throw new DockerfileError(e.code, e.message, {
          file: run.location.file,
          line: run.location.startLine,
          column: 0,
          endLine: run.location.endLine,
        });
      }
      throw e;
    }
  });
}
