import type { Platform } from "@tsbuild/oci";
import type { FromInstruction, Instruction, SourceLocation } from "../dockerfile/instructions/types.js";
import type { Linter } from "../dockerfile/lint/linter.js";

/**
 * BaseImageConfig is what planning needs from a base image's config: its environment (word expansion
 * sees it), its SHELL (JSONArgsRecommended is quiet when one is set) and its ONBUILD triggers.
 */
export interface BaseImageConfig {
  env?: readonly string[];
  shell?: readonly string[];
  onBuild?: readonly string[];
}

/** PlanOptions are the build inputs that shape a plan (docker build's `--build-arg`, `--target`, `--platform`). */
export interface PlanOptions {
  /** buildArgs are `--build-arg` values; a name given without a value is looked up by the caller. */
  buildArgs?: Readonly<Record<string, string>>;
  /** target names the stage to build (case-insensitive); default the last stage. */
  target?: string;
  /** targetPlatform is `--platform`; default the host. */
  targetPlatform?: Platform;
  /** buildPlatform is the platform the build runs on; default the host. */
  buildPlatform?: Platform;
  /**
   * imageConfig returns the config of an external base image when the caller knows it (already pulled).
   * Without it, stages on such images expand with only a default PATH and UndefinedVar stays quiet there.
   */
  imageConfig?: (ref: string, platform: Platform) => BaseImageConfig | undefined;
  /** ignorePatterns are the build's .dockerignore patterns, for the experimental CopyIgnoredFile check. */
  ignorePatterns?: readonly string[];
  /** allStages plans every stage, not only those the target needs (what `--check` does). */
  allStages?: boolean;
  /** linter collects lint findings made while planning. */
  linter?: Linter;
}

/** StageBase is what a stage starts from. */
export type StageBase =
  | { kind: "scratch" }
  | { kind: "image"; ref: string }
  | { kind: "stage"; stage: number };

/** StageEdge says that a stage needs another stage's result, and through which instruction. */
export interface StageEdge {
  stage: number;
  via: "from" | "copy" | "mount";
  location: SourceLocation;
}

/** KeyValuePair is an ENV/LABEL pair or an ARG with its resolved value (undefined: declared, not set). */
export interface ArgValue {
  key: string;
  value: string | undefined;
}

/**
 * PlannedStep is one instruction ready for an executor: `expanded` is the instruction with every word
 * BuildKit expands already expanded (RUN/CMD/ENTRYPOINT shell strings are left to the shell), and the
 * scope it runs in.
 */
export interface PlannedStep {
  /** instruction is the typed instruction as written. */
  instruction: Instruction;
  /** expanded is a copy of the instruction with expanded words (for ARG: resolved defaults). */
  expanded: Instruction;
  /** env is the environment the step sees: base image env, ENV, and ARG values, in order, last wins. */
  env: ReadonlyArray<readonly [string, string]>;
  /** buildArgs are the ARGs in scope (declared in this stage or its base stages), in declaration order. */
  buildArgs: readonly ArgValue[];
  /** fromStage is the stage a COPY --from or RUN --mount from= reads (index), when it names a stage. */
  fromStages?: number[];
  /** fromImages are images a COPY --from or RUN --mount from= reads, when they name no stage. */
  fromImages?: string[];
  /** onbuild is true for a trigger inherited from the base (ONBUILD of a base stage or image). */
  onbuild?: boolean;
}

/** PlannedStage is one stage of the build. */
export interface PlannedStage {
  /** index is the stage's position in the Dockerfile (what `--from=N` counts). */
  index: number;
  /** name is the `AS` name, lower-cased; undefined for an unnamed stage. */
  name: string | undefined;
  /** id names the stage in progress output: its name, else `stage-N`. */
  id: string;
  from: FromInstruction;
  base: StageBase;
  /** platform is the stage's platform: `FROM --platform` (expanded) or the target platform. */
  platform: Platform;
  /** platformFromFlag is true when `--platform` chose it. */
  platformFromFlag: boolean;
  steps: PlannedStep[];
  /** dependsOn are the stages this one needs first (base stage, COPY --from, RUN --mount from). */
  dependsOn: StageEdge[];
  /** baseEnvKnown is false when the stage sits on an external image whose config was not supplied. */
  baseEnvKnown: boolean;
}

/** BuildPlan is the whole build: the stages to run, how they depend on each other, and what to warn about. */
export interface BuildPlan {
  file: string;
  /** stages are the stages to build, in Dockerfile order; with --target, only those the target needs. */
  stages: PlannedStage[];
  /** target is the index of the stage whose result is the build's result. */
  target: number;
  /** stageCount is the number of stages in the Dockerfile (before pruning). */
  stageCount: number;
  /** globalArgs are the ARGs before the first FROM plus the predefined platform ARGs, resolved. */
  globalArgs: ReadonlyArray<readonly [string, string]>;
  /** parallelGroups lists stage indexes by wave: each wave's stages only need stages of earlier waves. */
  parallelGroups: number[][];
  /** proxyEnv holds the proxy build args (HTTP_PROXY…), given to RUN without ARG and kept out of history. */
  proxyEnv: Readonly<Record<string, string>>;
  /** unusedBuildArgs are `--build-arg` names nothing consumed, sorted (docker warns about them). */
  unusedBuildArgs: string[];
}
