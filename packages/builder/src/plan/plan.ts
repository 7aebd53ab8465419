import { hostPlatform, type Platform, parsePlatform } from "@tsbuild/oci";
import { type Dockerfile, parseDockerfile } from "../dockerfile/dockerfile.js";
import { PatternMatcher } from "../dockerfile/dockerignore/matcher.js";
import type { FromInstruction, Instruction, SourceLocation } from "../dockerfile/instructions/types.js";
import * as rules from "../dockerfile/lint/rules.js";
import { ShellLex } from "../dockerfile/shell/lex.js";
import { DEFAULT_PATH, defaultArgs, EnvList, isBuiltinArg, proxyEnv } from "./args.js";
import { type DispatchContext, dispatchStep, inheritState, type StageState } from "./dispatch.js";
import { checkCycles, parallelGroups, reachable } from "./graph.js";
import { closest, errorAt } from "./located.js";
import {
  expandWithMatches,
  isValidReference,
  referenceProblem,
  resolveMetaArgs,
  splitStages,
} from "./stages.js";
import type { BuildPlan, PlannedStage, PlannedStep, PlanOptions, StageBase } from "./types.js";

const STAGE_INDEX = /^[+-]?\d+$/;

/**
 * planBuild turns a Dockerfile into a build plan the way BuildKit's dockerfile2llb does before it builds
 * anything: global ARGs and `--build-arg`s, stages and their bases, the dependency graph, `--target`
 * pruning, and every instruction expanded in its stage's scope. It throws DockerfileError (with
 * file:line:col) for unknown targets or stages, forward or circular stage references, bad base names,
 * platforms and substitutions.
 */
export function planBuild(input: Dockerfile | string, options: PlanOptions = {}): BuildPlan {
  const df = typeof input === "string" ? parseDockerfile(input) : input;
  const lines = df.ast.lines;
  const linter = options.linter;
  const buildArgs = options.buildArgs ?? {};
  const targetPlatform = options.targetPlatform ?? hostPlatform();
  const buildPlatform = options.buildPlatform ?? hostPlatform();
  const lex = new ShellLex({ escapeToken: df.escapeToken });
  const rawLex = new ShellLex({ escapeToken: "\\", skipProcessQuotes: true });

  const { metaArgs, stages: raw } = splitStages(df);
  const last = raw[raw.length - 1]!;
  const targetName = options.target ?? last.from.stageName ?? "";
  const predefined = defaultArgs(buildPlatform, targetPlatform, targetName, buildArgs);

  if (linter) {
    // InvalidDefaultArgInFrom: would the base names be valid if no build args were given?
    try {
      const defaults = resolveMetaArgs(lex, lines, predefined, metaArgs, {}).env;
      for (const st of raw) {
        const name = lex.processWord(st.from.image, defaults);
        if (!isValidReference(name))
          linter.run(rules.InvalidDefaultArgInFrom, st.from.location, st.from.image);
      }
    } catch {
      // The real resolution below reports the error.
    }
  }
  const meta = resolveMetaArgs(lex, lines, predefined, metaArgs, buildArgs);
  const globalArgs = meta.env;
  const fromArgKeys = new Set([...meta.declared, ...globalArgs.keys()]);

  // Stage names are lower-case; a later duplicate replaces an earlier one for later lookups, as in BuildKit
  // (the DuplicateStageName check reports it).
  const byName = new Map<string, number>();
  const stages: PlannedStage[] = [];
  for (const st of raw) {
    const from = st.from;
    const nameMatch = expandWithMatches(lex, lines, from.image, globalArgs, from.location);
    reportFromArgs(nameMatch.unmatched, fromArgKeys, from.location);
    if (nameMatch.result === "") {
      throw errorAt(
        lines,
        from.location,
        "INVALID_BASE_NAME",
        `base name (${from.image}) should not be blank`,
      );
    }
    const baseName = nameMatch.result;
    let base: StageBase;
    const baseStage = byName.get(baseName);
    if (baseStage !== undefined) base = { kind: "stage", stage: baseStage };
    else if (baseName === "scratch") base = { kind: "scratch" };
    else {
      // Like BuildKit, every stage's image name is parsed (a name is looked up as written, so
      // `FROM Builder` is an image, and an invalid one), even in stages the target does not need.
      const problem = referenceProblem(baseName);
      if (problem !== undefined) {
        throw errorAt(
          lines,
          from.location,
          "INVALID_BASE_NAME",
          `failed to parse stage name ${JSON.stringify(baseName)}: ${problem}`,
          from.image,
        );
      }
      base = { kind: "image", ref: baseName };
    }

    let platform = targetPlatform;
    let platformFromFlag = false;
    if (from.platform !== undefined) {
      const m = expandWithMatches(lex, lines, from.platform, globalArgs, from.location);
      reportFromArgs(m.unmatched, fromArgKeys, from.location);
      if (linter) lintPlatform(from, m, globalArgs);
      if (m.result === "") {
        throw errorAt(
          lines,
          from.location,
          "INVALID_PLATFORM",
          `empty platform value from expression ${from.platform}${suggestAny(m.unmatched, fromArgKeys)}`,
          from.platform,
        );
      }
      try {
        platform = parsePlatform(m.result);
      } catch (err) {
        throw errorAt(
          lines,
          from.location,
          "INVALID_PLATFORM",
          `failed to parse platform ${from.platform}: ${(err as Error).message}${suggestAny(m.unmatched, fromArgKeys)}`,
          from.platform,
        );
      }
      platformFromFlag = true;
    }
    if (base.kind === "stage") {
      // A stage built on a stage runs on that stage's platform.
      platform = stages[base.stage]!.platform;
      platformFromFlag = stages[base.stage]!.platformFromFlag;
    }
    const name = from.stageName;
    stages.push({
      index: st.index,
      name,
      id: name ?? `stage-${st.index}`,
      from,
      base,
      platform,
      platformFromFlag,
      steps: [],
      dependsOn: base.kind === "stage" ? [{ stage: base.stage, via: "from", location: from.location }] : [],
      baseEnvKnown: true,
    });
    if (name !== undefined) byName.set(name, st.index);
  }
  const findStage = (name: string) => byName.get(name.toLowerCase());

  // Target.
  let target = raw.length - 1;
  if (options.target !== undefined) {
    const t = findStage(options.target);
    if (t === undefined) {
      const hint = closest(options.target.toLowerCase(), byName.keys());
      throw errorAt(
        lines,
        { file: df.file, startLine: 0, endLine: 0 },
        "UNKNOWN_TARGET",
        `target stage ${JSON.stringify(options.target)} could not be found${hint ? ` (did you mean ${hint}?)` : ""}`,
      );
    }
    target = t;
  }

  // ONBUILD triggers of base images (when their config is known) and of base stages run first.
  const baseConfig = new Map<number, ReturnType<NonNullable<PlanOptions["imageConfig"]>>>();
  for (const stage of stages) {
    if (stage.base.kind === "image") {
      const config = options.imageConfig?.(stage.base.ref, stage.platform);
      baseConfig.set(stage.index, config);
      stage.baseEnvKnown = config !== undefined;
    } else if (stage.base.kind === "stage") {
      stage.baseEnvKnown = stages[stage.base.stage]!.baseEnvKnown;
    }
  }
  const triggersOf = (stage: PlannedStage): Instruction[] => {
    const out: Instruction[] = [];
    for (const expr of baseConfig.get(stage.index)?.onBuild ?? []) {
      const parsed = parseDockerfile(expr, { file: df.file });
      for (const ins of parsed.instructions)
        out.push({ ...ins, location: stage.from.location } as Instruction);
    }
    if (stage.base.kind === "stage") {
      for (const ins of raw[stage.base.stage]!.instructions)
        if (ins.kind === "onbuild") out.push(ins.trigger);
    }
    return out;
  };
  const programs = stages.map((s) => ({ triggers: triggersOf(s), instructions: raw[s.index]!.instructions }));

  // Dependencies from COPY --from and RUN --mount from= (stage names, or indexes for COPY).
  for (const stage of stages) {
    const program = programs[stage.index]!;
    for (const ins of [...program.triggers, ...program.instructions]) {
      for (const ref of stageRefs(ins)) {
        if (ref.via === "copy") rejectFromVariables(ref.value, ins.location);
        const dep = resolveRef(ref.value, ref.via, ins.location);
        if (dep !== undefined) stage.dependsOn.push({ stage: dep, via: ref.via, location: ins.location });
      }
    }
  }
  checkCycles(stages, lines);

  const wanted = options.allStages ? new Set(stages.map((s) => s.index)) : reachable(stages, target);
  const ctx: DispatchContext = {
    lines,
    lex,
    rawLex,
    globalArgs,
    buildArgValues: buildArgs,
    linter,
    consumed: new Set(meta.declared),
  };
  const matcher = ignoreMatcher(options.ignorePatterns);
  if (matcher) {
    ctx.ignored = (path) => {
      try {
        return matcher.matchesOrParentMatches(path);
      } catch {
        return false;
      }
    };
  }
  const states = new Map<number, StageState>();
  for (const stage of stages) {
    if (!wanted.has(stage.index)) continue;
    const state = initialState(stage, states, baseConfig);
    const program = programs[stage.index]!;
    for (const [ins, onbuild] of [
      ...program.triggers.map((i) => [i, true] as const),
      ...program.instructions.map((i) => [i, false] as const),
    ]) {
      const step: PlannedStep = dispatchStep(ctx, state, ins);
      if (onbuild) step.onbuild = true;
      attachSources(step, stage, ins);
      stage.steps.push(step);
    }
    states.set(stage.index, state);
  }

  const planned = stages.filter((s) => wanted.has(s.index));
  const unusedBuildArgs = Object.keys(buildArgs)
    .filter((k) => !ctx.consumed.has(k) && !isBuiltinArg(k))
    .sort();
  return {
    file: df.file,
    stages: planned,
    target,
    stageCount: stages.length,
    globalArgs: globalArgs.toArray(),
    parallelGroups: parallelGroups(planned),
    proxyEnv: proxyEnv(buildArgs),
    unusedBuildArgs,
  };

  /**
   * suggestAny is BuildKit's wrapSuggestAny for FROM --platform errors: ` (did you mean X?)` for the first
   * unset variable that is close to a declared one, so a typo in `$BULIDPLATFORM` says what was meant.
   */
  function suggestAny(unmatched: ReadonlySet<string>, known: ReadonlySet<string>): string {
    for (const name of unmatched) {
      const hint = closest(name, known);
      if (hint !== "") return ` (did you mean ${hint}?)`;
    }
    return "";
  }

  function reportFromArgs(
    unmatched: ReadonlySet<string>,
    known: ReadonlySet<string>,
    location: SourceLocation,
  ) {
    if (!linter) return;
    for (const name of unmatched) {
      if (known.has(name)) continue;
      linter.run(rules.UndefinedArgInFrom, location, name, closest(name, known));
    }
  }

  function lintPlatform(
    from: FromInstruction,
    m: ReturnType<ShellLex["processWordWithMatches"]>,
    env: EnvList,
  ) {
    if (m.matched.size === 1 && m.unmatched.size === 0 && m.matched.has("TARGETPLATFORM")) {
      if (m.result === env.get("TARGETPLATFORM")) {
        linter?.run(rules.RedundantTargetPlatform, from.location, from.platform!);
      }
    }
    if (m.matched.size > 0 || m.unmatched.size > 0) return;
    let p: Platform;
    try {
      p = parsePlatform(m.result);
    } catch {
      return;
    }
    const name = from.stageName ?? "";
    if (name.includes(p.os) || name.includes(p.architecture)) return;
    linter?.run(rules.FromPlatformFlagConstDisallowed, from.location, m.result);
  }

  /**
   * rejectFromVariables: BuildKit settles the stage graph before any scope exists, so a COPY --from value
   * that expansion would change (`$FOO`, `img:${V}`) is an error, not expanded.
   */
  function rejectFromVariables(value: string, location: SourceLocation): void {
    let expanded: string;
    try {
      expanded = lex.processWord(value, EnvList.empty());
    } catch {
      expanded = "";
    }
    if (expanded !== value) {
      throw errorAt(
        lines,
        location,
        "INVALID_STAGE_REFERENCE",
        "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
        `--from=${value}`,
      );
    }
  }

  function resolveRef(value: string, via: "copy" | "mount", location: SourceLocation): number | undefined {
    if (via === "copy" && STAGE_INDEX.test(value)) {
      const i = Number(value);
      if (!Number.isInteger(i) || i < 0 || i >= stages.length) {
        throw errorAt(lines, location, "UNKNOWN_STAGE", `invalid stage index ${value}`, value);
      }
      return i;
    }
    return findStage(value);
  }

  function attachSources(step: PlannedStep, stage: PlannedStage, ins: Instruction) {
    const fromStages: number[] = [];
    const fromImages: string[] = [];
    for (const ref of stageRefs(ins)) {
      const dep = resolveRef(ref.value, ref.via, ins.location);
      if (dep === undefined) {
        fromImages.push(ref.value);
        continue;
      }
      if (dep >= stage.index) {
        const message =
          ref.via === "copy"
            ? `cannot copy from stage ${JSON.stringify(ref.value)}, it needs to be defined before current stage ${JSON.stringify(stage.id)}`
            : `cannot mount from stage ${JSON.stringify(ref.value)} to ${JSON.stringify(stage.id)}, stage needs to be defined before current command`;
        throw errorAt(lines, ins.location, "INVALID_STAGE_REFERENCE", message, ref.value);
      }
      fromStages.push(dep);
    }
    if (fromStages.length > 0) step.fromStages = fromStages;
    if (fromImages.length > 0) step.fromImages = fromImages;
  }

  function initialState(
    stage: PlannedStage,
    done: ReadonlyMap<number, StageState>,
    configs: ReadonlyMap<number, ReturnType<NonNullable<PlanOptions["imageConfig"]>>>,
  ): StageState {
    if (stage.base.kind === "stage") {
      const base = done.get(stage.base.stage);
      if (base) return inheritState(base);
    }
    const config = configs.get(stage.index);
    let env = EnvList.fromStrings(config?.env ?? []);
    if (stage.platform.os !== "windows" && env.get("PATH") === undefined)
      env = env.with("PATH", DEFAULT_PATH);
    return {
      env,
      buildArgs: [],
      shellSet: (config?.shell?.length ?? 0) > 0,
      workdirSet: false,
      os: stage.platform.os,
      envKnown: stage.baseEnvKnown,
      onbuild: [],
    };
  }
}

/** ignoreMatcher compiles the .dockerignore patterns; a malformed list is reported by the context transfer, not here. */
function ignoreMatcher(patterns: readonly string[] | undefined): PatternMatcher | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  try {
    return new PatternMatcher(patterns);
  } catch {
    return undefined;
  }
}

/** stageRefs lists the `--from` values an instruction reads: COPY --from, RUN --mount from=. */
function stageRefs(ins: Instruction): { value: string; via: "copy" | "mount" }[] {
  if (ins.kind === "copy" && ins.from !== undefined && ins.from !== "")
    return [{ value: ins.from, via: "copy" }];
  if (ins.kind === "run") {
    return ins.mounts
      .filter((m) => m.from !== undefined && m.from !== "")
      .map((m) => ({ value: m.from!, via: "mount" }));
  }
  return [];
}
