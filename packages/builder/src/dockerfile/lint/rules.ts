/**
 * LintRule is one BuildKit Dockerfile check: its name (what `# check=skip=` and the output use), the
 * one-line description, and the message for one finding. Names, descriptions and messages are
 * BuildKit's, so output and skip lists carry over from `docker build --check`.
 */
export interface LintRule<A extends unknown[] = never[]> {
  name: string;
  description: string;
  url: string;
  /** experimental rules run only when enabled with `# check=experimental=Name`. */
  experimental?: boolean;
  format: (...args: A) => string;
}

const doc = (slug: string) => `https://docs.docker.com/go/dockerfile/rule/${slug}/`;
const quote = (s: string) => JSON.stringify(s);

export const StageNameCasing: LintRule<[string]> = {
  name: "StageNameCasing",
  description: "Stage names should be lowercase",
  url: doc("stage-name-casing"),
  format: (stage) => `Stage name '${stage}' should be lowercase`,
};

export const FromAsCasing: LintRule<[string, string]> = {
  name: "FromAsCasing",
  description: "The 'as' keyword should match the case of the 'from' keyword",
  url: doc("from-as-casing"),
  format: (from, as) => `'${as}' and '${from}' keywords' casing do not match`,
};

export const NoEmptyContinuation: LintRule<[]> = {
  name: "NoEmptyContinuation",
  description: "Empty continuation lines will become errors in a future release",
  url: doc("no-empty-continuation"),
  format: () => "Empty continuation line",
};

export const ConsistentInstructionCasing: LintRule<[string, string]> = {
  name: "ConsistentInstructionCasing",
  description: "All commands within the Dockerfile should use the same casing (either upper or lower)",
  url: doc("consistent-instruction-casing"),
  format: (command, casing) =>
    `Command '${command}' should match the case of the command majority (${casing})`,
};

export const DuplicateStageName: LintRule<[string]> = {
  name: "DuplicateStageName",
  description: "Stage names should be unique",
  url: doc("duplicate-stage-name"),
  format: (stage) => `Duplicate stage name ${quote(stage)}, stage names should be unique`,
};

export const ReservedStageName: LintRule<[string]> = {
  name: "ReservedStageName",
  description: "Reserved words should not be used as stage names",
  url: doc("reserved-stage-name"),
  format: (stage) => `Stage name should not use the same name as reserved stage ${quote(stage)}`,
};

export const JSONArgsRecommended: LintRule<[string]> = {
  name: "JSONArgsRecommended",
  description:
    "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
  url: doc("json-args-recommended"),
  format: (instruction) =>
    `JSON arguments recommended for ${instruction} to prevent unintended behavior related to OS signals`,
};

export const MaintainerDeprecated: LintRule<[]> = {
  name: "MaintainerDeprecated",
  description: "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
  url: doc("maintainer-deprecated"),
  format: () => "Maintainer instruction is deprecated in favor of using label",
};

export const UndefinedArgInFrom: LintRule<[string, string]> = {
  name: "UndefinedArgInFrom",
  description: "FROM command must use declared ARGs",
  url: doc("undefined-arg-in-from"),
  format: (arg, suggestion) =>
    `FROM argument '${arg}' is not declared${suggestion ? ` (did you mean ${suggestion}?)` : ""}`,
};

export const WorkdirRelativePath: LintRule<[string]> = {
  name: "WorkdirRelativePath",
  description:
    "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
  url: doc("workdir-relative-path"),
  format: (workdir) =>
    `Relative workdir ${quote(workdir)} can have unexpected results if the base image changes`,
};

export const UndefinedVar: LintRule<[string, string]> = {
  name: "UndefinedVar",
  description: "Variables should be defined before their use",
  url: doc("undefined-var"),
  format: (name, suggestion) =>
    `Usage of undefined variable '$${name}'${suggestion ? ` (did you mean $${suggestion}?)` : ""}`,
};

export const MultipleInstructionsDisallowed: LintRule<[string]> = {
  name: "MultipleInstructionsDisallowed",
  description: "Multiple instructions of the same type should not be used in the same stage",
  url: doc("multiple-instructions-disallowed"),
  format: (instruction) =>
    `Multiple ${instruction} instructions should not be used in the same stage because only the last one will be used`,
};

export const LegacyKeyValueFormat: LintRule<[string]> = {
  name: "LegacyKeyValueFormat",
  description: "Legacy key/value format with whitespace separator should not be used",
  url: doc("legacy-key-value-format"),
  format: (cmd) => `"${cmd} key=value" should be used instead of legacy "${cmd} key value" format`,
};

export const RedundantTargetPlatform: LintRule<[string]> = {
  name: "RedundantTargetPlatform",
  description:
    "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
  url: doc("redundant-target-platform"),
  format: (platformVar) =>
    `Setting platform to predefined ${platformVar} in FROM is redundant as this is the default behavior`,
};

export const SecretsUsedInArgOrEnv: LintRule<[string, string]> = {
  name: "SecretsUsedInArgOrEnv",
  description: "Sensitive data should not be used in the ARG or ENV commands",
  url: doc("secrets-used-in-arg-or-env"),
  format: (instruction, key) =>
    `Do not use ARG or ENV instructions for sensitive data (${instruction} ${quote(key)})`,
};

export const InvalidDefaultArgInFrom: LintRule<[string]> = {
  name: "InvalidDefaultArgInFrom",
  description: "Default value for global ARG results in an empty or invalid base image name",
  url: doc("invalid-default-arg-in-from"),
  format: (baseName) => `Default value for ARG ${baseName} results in empty or invalid base image name`,
};

export const FromPlatformFlagConstDisallowed: LintRule<[string]> = {
  name: "FromPlatformFlagConstDisallowed",
  description: "FROM --platform flag should not use a constant value",
  url: doc("from-platform-flag-const-disallowed"),
  format: (platform) => `FROM --platform flag should not use constant value ${quote(platform)}`,
};

export const ExposeProtoCasing: LintRule<[string]> = {
  name: "ExposeProtoCasing",
  description: "Protocol in EXPOSE instruction should be lowercase",
  url: doc("expose-proto-casing"),
  format: (port) => `Defined protocol '${port}' in EXPOSE instruction should be lowercase`,
};

export const ExposeInvalidFormat: LintRule<[string]> = {
  name: "ExposeInvalidFormat",
  description:
    "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
  url: doc("expose-invalid-format"),
  format: (port) =>
    `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`,
};

export const InvalidDefinitionDescription: LintRule<[string, string]> = {
  name: "InvalidDefinitionDescription",
  description:
    "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.",
  url: doc("invalid-definition-description"),
  experimental: true,
  format: (instruction, name) =>
    `Comment for ${instruction} should follow the format: \`# ${name} <description>\``,
};

export const CopyIgnoredFile: LintRule<[string, string]> = {
  name: "CopyIgnoredFile",
  description: "Attempting to Copy file that is excluded by .dockerignore",
  url: doc("copy-ignored-file"),
  experimental: true,
  format: (cmd, file) => `Attempting to ${cmd} file ${quote(file)} that is excluded by .dockerignore`,
};

/** ALL_RULES lists every rule tsbuild implements, for `--help` texts and skip-list validation. */
export const ALL_RULES: readonly LintRule<never>[] = [
  StageNameCasing,
  FromAsCasing,
  NoEmptyContinuation,
  ConsistentInstructionCasing,
  DuplicateStageName,
  ReservedStageName,
  JSONArgsRecommended,
  MaintainerDeprecated,
  UndefinedArgInFrom,
  WorkdirRelativePath,
  UndefinedVar,
  MultipleInstructionsDisallowed,
  LegacyKeyValueFormat,
  RedundantTargetPlatform,
  SecretsUsedInArgOrEnv,
  InvalidDefaultArgInFrom,
  FromPlatformFlagConstDisallowed,
  ExposeProtoCasing,
  ExposeInvalidFormat,
  CopyIgnoredFile,
  InvalidDefinitionDescription,
] as unknown as LintRule<never>[];
