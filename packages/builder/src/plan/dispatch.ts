import { resolveMounts } from "../dockerfile/instructions/run.js";
import type {
  AddInstruction,
  ArgInstruction,
  CopyInstruction,
  EnvInstruction,
  ExposeInstruction,
  HeredocSource,
  Instruction,
  LabelInstruction,
  RunInstruction,
  SourceLocation,
  StopsignalInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from "../dockerfile/instructions/types.js";
import type { Linter } from "../dockerfile/lint/linter.js";
import * as rules from "../dockerfile/lint/rules.js";
import { ShellExpansionError, type ShellLex } from "../dockerfile/shell/lex.js";
import type { EnvList } from "./args.js";
import { type PortSpec, PortSpecError, parsePortSpec } from "./expose.js";
import { closest, errorAt } from "./located.js";
import type { ArgValue, PlannedStep } from "./types.js";

/** NON_ENV_ARGS are ARGs BuildKit reads itself; they never become environment variables. */
const NON_ENV_ARGS = new Set(["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"]);

/** SECRET_KEY and PUBLIC_KEY are BuildKit's SecretsUsedInArgOrEnv patterns (whole name or `_`-separated word). */
const SECRET_KEY =
  /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const PUBLIC_KEY = /(?:_|^)public(?:_|$)/i;

/** DispatchContext is shared by every stage of one plan. */
export interface DispatchContext {
  lines: readonly string[];
  /** lex expands words with the Dockerfile's escape character. */
  lex: ShellLex;
  /** rawLex expands heredoc bodies: quotes are kept, `\` escapes. */
  rawLex: ShellLex;
  globalArgs: EnvList;
  buildArgValues: Readonly<Record<string, string>>;
  linter: Linter | undefined;
  /** consumed collects build-arg names some ARG declared. */
  consumed: Set<string>;
  /** ignored reports whether the .dockerignore excludes a context path (for CopyIgnoredFile). */
  ignored?: (path: string) => boolean;
}

/** StageState is what a stage has accumulated so far; a stage built on another stage starts from a copy of it. */
export interface StageState {
  env: EnvList;
  buildArgs: ArgValue[];
  /** shellSet is true once SHELL (here or in the base) replaced the default shell. */
  shellSet: boolean;
  /** workdirSet is true once a WORKDIR was dispatched in this stage or a base stage. */
  workdirSet: boolean;
  os: string;
  /** envKnown is false on an external image whose config was not supplied (UndefinedVar stays quiet). */
  envKnown: boolean;
  cmd?: SourceLocation;
  entrypoint?: SourceLocation;
  healthcheck?: SourceLocation;
  /** onbuild are the ONBUILD instructions of this stage, inherited by stages built on it. */
  onbuild: Instruction[];
}

/** inheritState starts a stage on a base stage: env, args, shell and workdir carry over, trackers do not. */
export function inheritState(base: StageState): StageState {
  return {
    env: base.env,
    buildArgs: [...base.buildArgs],
    shellSet: base.shellSet,
    workdirSet: base.workdirSet,
    os: base.os,
    envKnown: base.envKnown,
    onbuild: [],
  };
}

class StepExpander {
  constructor(
    private readonly ctx: DispatchContext,
    private readonly state: StageState,
    private readonly location: SourceLocation,
  ) {}

  /** word expands one word in the stage scope, reporting undefined variables. */
  word = (word: string): string => this.run(this.ctx.lex, word);

  /** raw expands a heredoc body (quotes kept). */
  raw = (word: string): string => this.run(this.ctx.rawLex, word);

  /** words expands and splits (EXPOSE); BuildKit reports no undefined variables there. */
  words(word: string): string[] {
    try {
      return this.ctx.lex.processWords(word, this.state.env);
    } catch (err) {
      throw this.wrap(err, word);
    }
  }

  private run(lex: ShellLex, word: string): string {
    let r: ReturnType<ShellLex["processWordWithMatches"]>;
    try {
      r = lex.processWordWithMatches(word, this.state.env);
    } catch (err) {
      throw this.wrap(err, word);
    }
    this.reportUnmatched(r.unmatched);
    return r.result;
  }

  private wrap(err: unknown, word: string): unknown {
    if (!(err instanceof ShellExpansionError)) return err;
    const needle = word.split("\n")[0];
    return errorAt(this.ctx.lines, this.location, "INVALID_SUBSTITUTION", err.message, needle || undefined);
  }

  private reportUnmatched(unmatched: ReadonlySet<string>): void {
    const linter = this.ctx.linter;
    if (!linter || !this.state.envKnown || unmatched.size === 0) return;
    const declared = new Set(this.state.buildArgs.map((a) => a.key));
    for (const name of unmatched) {
      if (declared.has(name) || NON_ENV_ARGS.has(name)) continue;
      linter.run(rules.UndefinedVar, this.location, name, closest(name, this.state.env.keys()));
    }
  }
}

function checkSecret(
  ctx: DispatchContext,
  instruction: "ARG" | "ENV",
  key: string,
  location: SourceLocation,
) {
  if (SECRET_KEY.test(key) && !PUBLIC_KEY.test(key)) {
    ctx.linter?.run(rules.SecretsUsedInArgOrEnv, location, instruction, key);
  }
}

function usedOnce(ctx: DispatchContext, name: string, previous: SourceLocation | undefined): void {
  // The earlier instruction is the one that will be ignored, so that is where BuildKit points.
  if (previous) ctx.linter?.run(rules.MultipleInstructionsDisallowed, previous, name);
}

/**
 * dispatchStep expands one instruction in the stage's scope and applies its effect on the scope
 * (ENV, ARG, SHELL, WORKDIR…), raising the lint findings BuildKit raises while dispatching.
 */
export function dispatchStep(ctx: DispatchContext, state: StageState, instruction: Instruction): PlannedStep {
  const env = state.env.toArray();
  const buildArgs = [...state.buildArgs];
  const x = new StepExpander(ctx, state, instruction.location);
  const expanded = expandInstruction(ctx, state, instruction, x);
  return { instruction, expanded, env, buildArgs };
}

function expandInstruction(
  ctx: DispatchContext,
  state: StageState,
  ins: Instruction,
  x: StepExpander,
): Instruction {
  const loc = ins.location;
  switch (ins.kind) {
    case "env":
      return dispatchEnv(ctx, state, ins, x);
    case "label":
      return dispatchLabel(ctx, ins, x);
    case "arg":
      return dispatchArg(ctx, state, ins, x);
    case "copy":
    case "add": {
      const out = expandCopy(ins, x) as CopyInstruction | AddInstruction;
      if (out.kind === "copy") {
        // BuildKit's dispatchCopy: only ADD fetches remote sources; COPY names them as an error.
        for (const src of out.sources) {
          const what = isGitSource(src) ? "git ref" : /^https?:\/\//.test(src) ? "URL" : undefined;
          if (what) throw errorAt(ctx.lines, loc, "INVALID_ARGUMENTS", `source can't be a ${what} for COPY`);
        }
      }
      if (ctx.ignored && ctx.linter && !(out.kind === "copy" && out.from)) {
        for (const src of out.sources) {
          if (out.kind === "add" && /^(https?|git):\/\//.test(src)) continue;
          if (ctx.ignored(src))
            ctx.linter.run(rules.CopyIgnoredFile, loc, out.kind === "add" ? "Add" : "Copy", src);
        }
      }
      return out;
    }
    case "workdir":
      return dispatchWorkdir(ctx, state, ins, x);
    case "user":
      return { ...ins, user: x.word(ins.user) };
    case "volume":
      return expandVolume(ctx, ins, x);
    case "stopsignal":
      return expandStopsignal(ctx, ins, x);
    case "expose":
      return expandExpose(ctx, ins, x);
    case "run":
      return expandRun(ins, x);
    case "cmd":
    case "entrypoint": {
      usedOnce(ctx, ins.keyword, state[ins.kind]);
      state[ins.kind] = loc;
      if (ins.command.prependShell && !state.shellSet)
        ctx.linter?.run(rules.JSONArgsRecommended, loc, ins.keyword);
      return ins;
    }
    case "healthcheck":
      usedOnce(ctx, ins.keyword, state.healthcheck);
      state.healthcheck = loc;
      return ins;
    case "shell":
      state.shellSet = ins.shell.length > 0;
      return ins;
    case "onbuild":
      state.onbuild.push(ins);
      return ins;
    default:
      return ins;
  }
}

function dispatchEnv(
  ctx: DispatchContext,
  state: StageState,
  ins: EnvInstruction,
  x: StepExpander,
): Instruction {
  // Every pair is expanded before any is set: `ENV A=1 B=$A` sees the old A, as in BuildKit.
  const pairs = ins.pairs.map((p) => ({ ...p, key: x.word(p.key), value: x.word(p.value) }));
  for (const p of pairs) {
    if (p.legacy) ctx.linter?.run(rules.LegacyKeyValueFormat, ins.location, ins.keyword);
    checkSecret(ctx, "ENV", p.key, ins.location);
    state.env = state.env.with(p.key, p.value);
  }
  return { ...ins, pairs };
}

function dispatchLabel(ctx: DispatchContext, ins: LabelInstruction, x: StepExpander): Instruction {
  const pairs = ins.pairs.map((p) => ({ ...p, key: x.word(p.key), value: x.word(p.value) }));
  for (const p of pairs) if (p.legacy) ctx.linter?.run(rules.LegacyKeyValueFormat, ins.location, ins.keyword);
  return { ...ins, pairs };
}

function dispatchArg(
  ctx: DispatchContext,
  state: StageState,
  ins: ArgInstruction,
  x: StepExpander,
): Instruction {
  const args = ins.args.map((arg) => {
    checkSecret(ctx, "ARG", arg.name, ins.location);
    ctx.consumed.add(arg.name);
    const given = Object.hasOwn(ctx.buildArgValues, arg.name);
    let value: string | undefined;
    if (given) {
      value = ctx.buildArgValues[arg.name];
    } else if (arg.default !== undefined) {
      value = x.word(arg.default);
    } else {
      // An ARG without default takes the global value (meta ARG or predefined platform ARG).
      value = ctx.globalArgs.get(arg.name);
    }
    if (value !== undefined && !NON_ENV_ARGS.has(arg.name)) state.env = state.env.with(arg.name, value);
    state.buildArgs.push({ key: arg.name, value });
    return value === undefined ? { name: arg.name } : { name: arg.name, default: value };
  });
  return { ...ins, args };
}

function expandCopy(ins: CopyInstruction | AddInstruction, x: StepExpander): Instruction {
  const contents: HeredocSource[] = ins.contents.map((c) => (c.expand ? { ...c, data: x.raw(c.data) } : c));
  const out = {
    ...ins,
    sources: ins.sources.map(x.word),
    dest: x.word(ins.dest),
    contents,
  };
  if (ins.chown !== undefined) out.chown = x.word(ins.chown);
  if (ins.chmod !== undefined) out.chmod = x.word(ins.chmod);
  if (ins.kind === "add" && ins.checksum !== undefined)
    (out as AddInstruction).checksum = x.word(ins.checksum);
  return out;
}

/**
 * isGitSource approximates BuildKit's gitutil.ParseGitRef for what it accepts as remote: `git://`, `ssh://`,
 * `git@host:path`, and http(s) URLs of a `.git` repository (optionally with a `#ref` fragment).
 */
function isGitSource(src: string): boolean {
  if (/^(git|ssh):\/\//.test(src) || /^[\w.-]+@[\w.-]+:/.test(src)) return true;
  return /^https?:\/\/[^#]*\.git(#.*)?$/.test(src);
}

function isAbsolute(path: string, os: string): boolean {
  if (os === "windows") return /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\") || path.startsWith("/");
  return path.startsWith("/");
}

function dispatchWorkdir(
  ctx: DispatchContext,
  state: StageState,
  ins: WorkdirInstruction,
  x: StepExpander,
): Instruction {
  const path = x.word(ins.path);
  // Only the first WORKDIR of the build chain matters: later relative ones are relative to it. When the
  // base image is unknown its OS may be Windows, so a drive-letter path is taken as absolute then.
  const os = !state.envKnown && /^[A-Za-z]:[\\/]/.test(path) ? "windows" : state.os;
  if (!state.workdirSet && !isAbsolute(path, os))
    ctx.linter?.run(rules.WorkdirRelativePath, ins.location, path);
  state.workdirSet = true;
  return { ...ins, path };
}

function expandVolume(ctx: DispatchContext, ins: VolumeInstruction, x: StepExpander): Instruction {
  const paths = ins.paths.map(x.word);
  if (paths.some((p) => p === "")) {
    throw errorAt(
      ctx.lines,
      ins.location,
      "INVALID_ARGUMENTS",
      "VOLUME specified can not be an empty string",
    );
  }
  return { ...ins, paths };
}

const SIGNALS = new Set(
  "ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ".split(
    " ",
  ),
);

function expandStopsignal(ctx: DispatchContext, ins: StopsignalInstruction, x: StepExpander): Instruction {
  const signal = x.word(ins.signal);
  const name = signal.toUpperCase().replace(/^SIG/, "");
  const number = /^\d+$/.test(signal) ? Number(signal) : undefined;
  const rt = /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name);
  if (!(number !== undefined ? number > 0 : SIGNALS.has(name) || rt)) {
    throw errorAt(ctx.lines, ins.location, "INVALID_ARGUMENTS", `Invalid signal: ${signal}`);
  }
  return { ...ins, signal };
}

function expandExpose(ctx: DispatchContext, ins: ExposeInstruction, x: StepExpander): Instruction {
  const ports = ins.ports.flatMap((p) => x.words(p));
  for (const raw of ports) {
    let spec: PortSpec;
    try {
      spec = parsePortSpec(raw);
    } catch (err) {
      if (!(err instanceof PortSpecError)) throw err;
      throw errorAt(ctx.lines, ins.location, "INVALID_ARGUMENTS", err.message, raw);
    }
    if (spec.protoCaseWrong) ctx.linter?.run(rules.ExposeProtoCasing, ins.location, raw);
    if (spec.hasMapping) ctx.linter?.run(rules.ExposeInvalidFormat, ins.location, raw);
  }
  return { ...ins, ports };
}

function expandRun(ins: RunInstruction, x: StepExpander): Instruction {
  if (!ins.mounts.some((m) => m.needsExpansion)) return ins;
  return { ...ins, mounts: resolveMounts(ins, x.word) };
}
