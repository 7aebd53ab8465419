import type { Heredoc, InstructionNode } from "../parser/ast.js";

/** SourceLocation says where an instruction is: 1-based lines, endLine includes continuations and heredocs. */
export interface SourceLocation {
  file: string;
  startLine: number;
  endLine: number;
}

/**
 * InstructionBase is what every typed instruction carries. Word arguments are NOT expanded here: `$VAR`
 * and quotes are kept as written so the word expander (dockerfile/shell) can process them in scope.
 */
export interface InstructionBase<K extends InstructionKind> {
  kind: K;
  location: SourceLocation;
  /** original is the logical line (continuations joined, comments removed). */
  original: string;
  /** keyword is the instruction name exactly as written (`run`, `Run`), for casing lint rules. */
  keyword: string;
  /** node is the AST node the instruction was made from. */
  node: InstructionNode;
}

export type InstructionKind =
  | "from"
  | "run"
  | "cmd"
  | "label"
  | "maintainer"
  | "expose"
  | "env"
  | "add"
  | "copy"
  | "entrypoint"
  | "volume"
  | "user"
  | "workdir"
  | "arg"
  | "onbuild"
  | "stopsignal"
  | "healthcheck"
  | "shell";

/**
 * CommandLine is a RUN/CMD/ENTRYPOINT/HEALTHCHECK command. In exec (JSON) form `args` are the argv; in
 * shell form `args` holds one string and `prependShell` is true: the executor runs it through SHELL.
 */
export interface CommandLine {
  form: "exec" | "shell";
  args: string[];
  prependShell: boolean;
}

export interface FromInstruction extends InstructionBase<"from"> {
  /** image is the base: an image reference, a stage name, or `scratch` (unexpanded). */
  image: string;
  /** stageName is the `AS` name lower-cased as BuildKit stores it; stageNameRaw is as written. */
  stageName?: string;
  stageNameRaw?: string;
  /** asKeyword is the `AS` word as written (`as`, `AS`), for the FromAsCasing lint rule. */
  asKeyword?: string;
  /** platform is `--platform` (unexpanded). */
  platform?: string;
}

export type MountType = "bind" | "cache" | "tmpfs" | "secret" | "ssh";
export type CacheSharing = "shared" | "private" | "locked";

/**
 * RunMount is one `RUN --mount=…`, parsed as BuildKit's instructions/commands_runmount.go does. When a
 * value holds `$` the typed fields that need a concrete value are filled only after expansion: call
 * parseMount(raw, { expand }) again with the stage's expander.
 */
export interface RunMount {
  type: MountType;
  /**
   * target is where the mount appears in the container (`target`, `dst`, `destination`); a relative or
   * missing target is resolved against the WORKDIR, as BuildKit does.
   */
  target?: string;
  /** source is the path in `from` (bind/cache) or the secret file (`source`, `src`). */
  source?: string;
  /** from is a stage name, stage index or image for bind/cache mounts. */
  from?: string;
  readOnly: boolean;
  /** id is the cache id, secret id or ssh id. */
  id?: string;
  /** sharing is the cache sharing mode (default `shared` for cache mounts). */
  sharing?: CacheSharing;
  /** mode, uid, gid apply to cache, secret and ssh mounts. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** size is the tmpfs size limit in bytes. */
  size?: number;
  /** required makes a missing secret or ssh agent an error. */
  required: boolean;
  /** env exposes a secret as an environment variable. */
  env?: string;
  /** raw is the flag value as written. */
  raw: string;
  /** needsExpansion is true when a value holds `$`; fields depending on it are not validated yet. */
  needsExpansion: boolean;
}

export type NetworkMode = "default" | "none" | "host";
export type SecurityMode = "sandbox" | "insecure";

export interface RunInstruction extends InstructionBase<"run"> {
  command: CommandLine;
  mounts: RunMount[];
  network: NetworkMode;
  security: SecurityMode;
  /** heredocs are the `<<EOF` bodies; a RUN whose command is only a heredoc runs that body as a script. */
  heredocs: Heredoc[];
}

export interface CmdInstruction extends InstructionBase<"cmd"> {
  command: CommandLine;
}

export interface EntrypointInstruction extends InstructionBase<"entrypoint"> {
  command: CommandLine;
}

export interface ShellInstruction extends InstructionBase<"shell"> {
  /** shell is the JSON argv (SHELL accepts only the exec form). */
  shell: string[];
}

/**
 * KeyValue is one ENV/LABEL/ARG pair, unexpanded. `legacy` marks the `KEY value…` form, where value is
 * the raw rest of the line.
 */
export interface KeyValue {
  key: string;
  value: string;
  legacy: boolean;
}

export interface EnvInstruction extends InstructionBase<"env"> {
  pairs: KeyValue[];
}

export interface LabelInstruction extends InstructionBase<"label"> {
  pairs: KeyValue[];
}

export interface MaintainerInstruction extends InstructionBase<"maintainer"> {
  maintainer: string;
}

export interface ExposeInstruction extends InstructionBase<"expose"> {
  /** ports are the raw words (`80`, `53/udp`, `$PORT`, `8000-8010`). */
  ports: string[];
}

/** HeredocSource is a COPY/ADD source given inline (`COPY <<EOF /dest`). */
export interface HeredocSource {
  /** path is the heredoc name, used as the file name when the destination is a directory. */
  path: string;
  /** data is the content, already chomped for `<<-`. */
  data: string;
  expand: boolean;
}

/** CopyLikeFields are shared by ADD and COPY. */
export interface CopyLikeFields {
  /** sources are the paths/URLs (unexpanded); heredoc sources are in `contents`. */
  sources: string[];
  contents: HeredocSource[];
  dest: string;
  /** json is true for the `["src", "dest"]` form. */
  json: boolean;
  chown?: string;
  chmod?: string;
  link: boolean;
  excludes: string[];
}

export interface AddInstruction extends InstructionBase<"add">, CopyLikeFields {
  keepGitDir: boolean;
  checksum?: string;
  /** unpack overrides archive extraction (undefined = BuildKit default: unpack local archives). */
  unpack?: boolean;
}

export interface CopyInstruction extends InstructionBase<"copy">, CopyLikeFields {
  /** from is `--from`: a stage name, stage index or image (unexpanded). */
  from?: string;
  parents: boolean;
}

export interface VolumeInstruction extends InstructionBase<"volume"> {
  paths: string[];
}

export interface UserInstruction extends InstructionBase<"user"> {
  user: string;
}

export interface WorkdirInstruction extends InstructionBase<"workdir"> {
  path: string;
}

/** ArgDeclaration is one `name[=default]` of ARG; the default keeps its quotes for the expander. */
export interface ArgDeclaration {
  name: string;
  default?: string;
}

export interface ArgInstruction extends InstructionBase<"arg"> {
  args: ArgDeclaration[];
}

/** OnbuildTrigger is every instruction that may follow ONBUILD. */
export type OnbuildTrigger = Exclude<
  Instruction,
  FromInstruction | MaintainerInstruction | OnbuildInstruction
>;

export interface OnbuildInstruction extends InstructionBase<"onbuild"> {
  trigger: OnbuildTrigger;
  /**
   * expression is the trigger as written (heredoc bodies appended, as BuildKit does), which goes into the
   * image config's OnBuild list.
   */
  expression: string;
}

export interface StopsignalInstruction extends InstructionBase<"stopsignal"> {
  signal: string;
}

/**
 * HealthConfig mirrors the image config `Healthcheck`: `test` is `["NONE"]`, `["CMD", …argv]` or
 * `["CMD-SHELL", command]`; durations are nanoseconds, 0 meaning "inherit the default".
 */
export interface HealthConfig {
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface HealthcheckInstruction extends InstructionBase<"healthcheck"> {
  health: HealthConfig;
}

/** Instruction is the discriminated union of every typed Dockerfile instruction. */
export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | EnvInstruction
  | AddInstruction
  | CopyInstruction
  | EntrypointInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

/** InstructionOf picks the instruction type of one kind: `InstructionOf<"copy">`. */
export type InstructionOf<K extends InstructionKind> = Extract<Instruction, { kind: K }>;
