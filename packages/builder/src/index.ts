/**
 * Builds images from Dockerfiles: the frontend (parser, lint, plan), the executor (cache, RUN in a
 * runc sandbox, layers) and {@link build}, the library form of `tsbuild build`.
 *
 * @packageDocumentation
 * @module @tsbuild/builder
 */
export { CACHE_CONFIG_TYPE, INLINE_CACHE_FIELD } from "./cache/format.js";
export { parseCacheFrom, parseCacheTo } from "./cache/options.js";
export { type Dockerfile, type DockerfileParseOptions, parseDockerfile } from "./dockerfile/dockerfile.js";
export {
  type BuildContextOptions,
  type BuildContextSelection,
  type ContextEntry,
  type ContextEntryKind,
  findIgnoreFile,
  type IgnoreFile,
  selectBuildContext,
  type WalkContextOptions,
  walkContext,
} from "./dockerfile/dockerignore/context.js";
export { parseIgnoreFile } from "./dockerfile/dockerignore/ignorefile.js";
export { IgnorePatternError, PatternMatcher } from "./dockerfile/dockerignore/matcher.js";
export { parseGoDuration } from "./dockerfile/instructions/duration.js";
export type * from "./dockerfile/instructions/types.js";
export { type CheckOptions, type CheckResult, checkDockerfile } from "./dockerfile/lint/check.js";
export { formatCheckReport, formatWarning } from "./dockerfile/lint/format.js";
export {
  type LintConfig,
  LintConfigError,
  Linter,
  type LintWarning,
  parseLintConfig,
} from "./dockerfile/lint/linter.js";
export { ALL_RULES, type LintRule } from "./dockerfile/lint/rules.js";
export type {
  Directive,
  Heredoc,
  InstructionNode,
  ParsedDockerfile,
  ParseWarning,
} from "./dockerfile/parser/ast.js";
export { type ParseOptions, parse } from "./dockerfile/parser/parser.js";
export { type EnvGetter, envsFromMap, envsFromSlice } from "./dockerfile/shell/env.js";
export {
  type ExpansionResult,
  ShellExpansionError,
  ShellLex,
  type ShellLexOptions,
} from "./dockerfile/shell/lex.js";
export {
  BuildError,
  type BuildErrorCode,
  DockerfileError,
  type DockerfileErrorCode,
  isBuildError,
  isDockerfileError,
  RunFailedError,
  SandboxError,
  type SandboxErrorCode,
  type SourcePosition,
} from "./errors.js";
export { type BuildHandle, build } from "./exec/build.js";
export { BuildCache, type CacheRecord } from "./exec/cache.js";
export type { BuildOutput } from "./exec/outputs.js";
export type {
  BaseEvent,
  BuildEvent,
  BuildOptions,
  BuiltImage,
  BuiltIndex,
  CachedEvent,
  CacheExport,
  CacheImport,
  DoneEvent,
  ImageEvent,
  LogEvent,
  ProgressEvent,
  PushedImage,
  StepEvent,
  WarningEvent,
} from "./exec/types.js";
export { unusedBuildArgsWarning } from "./plan/args.js";
export { foldChanges } from "./plan/changes.js";
export { type BaseImage, type FoldedImage, foldPlan } from "./plan/config.js";
export { type PortSpec, PortSpecError, parsePortSpec } from "./plan/expose.js";
export { planBuild } from "./plan/plan.js";
export type {
  ArgValue,
  BaseImageConfig,
  BuildPlan,
  PlannedStage,
  PlannedStep,
  PlanOptions,
  StageBase,
  StageEdge,
} from "./plan/types.js";
export { type RunImageOptions, type RunImageResult, runImage } from "./run/container.js";
export { type CheckStatus, checkRunSupport, type RunCheck, type RunSupport } from "./run/doctor.js";
export {
  probeSnapshotter,
  type RunMount,
  type RunStepOptions,
  type RunStepResult,
  runStep,
} from "./run/execute.js";
export { currentIdentity, type Identity, type IdRange } from "./sandbox/idmap.js";
export type { NetworkMode } from "./sandbox/sandbox.js";
export type { PortForward } from "./sandbox/slirp.js";
export type { SnapshotKind } from "./snapshot/snapshotter.js";
export {
  type UnpackedHold,
  type UnpackedLayer,
  UnpackedLayers,
  type UnpackedLayersOptions,
} from "./snapshot/unpacked.js";
