/**
 * DockerfileErrorCode names every way Dockerfile text can be rejected, so callers (the CLI, `--check`)
 * branch on `code`, never on message text. Add codes here rather than reusing a near miss.
 */
export type DockerfileErrorCode =
  /** A physical line longer than the reference scanner accepts (65535 bytes). */
  | "LINE_TOO_LONG"
  /** The file holds no instruction (empty, or only comments and blank lines). */
  | "EMPTY_DOCKERFILE"
  /** A parser directive was repeated or has an invalid value (`# escape=x`). */
  | "INVALID_DIRECTIVE"
  /** A JSON (exec form) array holds something other than strings. */
  | "INVALID_JSON"
  /** A heredoc word is malformed or its terminator never comes. */
  | "INVALID_HEREDOC"
  | "UNTERMINATED_HEREDOC"
  /** The keyword is not a Dockerfile instruction. */
  | "UNKNOWN_INSTRUCTION"
  /** A `--flag` the instruction does not know. */
  | "UNKNOWN_FLAG"
  /** A known flag given twice, without its value, or with a value it does not accept. */
  | "DUPLICATE_FLAG"
  | "INVALID_FLAG_VALUE"
  /** Too few or too many arguments, or arguments of the wrong shape. */
  | "INVALID_ARGUMENTS"
  /** An ONBUILD trigger that is not allowed (FROM, MAINTAINER, ONBUILD). */
  | "INVALID_ONBUILD"
  /** Word expansion failed: a malformed `${…}`, an unterminated quote, or `${VAR?message}` on an unset VAR. */
  | "INVALID_SUBSTITUTION"
  /** FROM names no image after expansion, or --platform does not parse. */
  | "INVALID_BASE_NAME"
  | "INVALID_PLATFORM"
  /** `--target` names no stage; `--from=N` is out of range. */
  | "UNKNOWN_TARGET"
  | "UNKNOWN_STAGE"
  /** A stage uses itself, or a stage defined after it (`COPY --from`, `RUN --mount from=`). */
  | "CIRCULAR_DEPENDENCY"
  | "INVALID_STAGE_REFERENCE"
  /** `# check=error=true` turned lint warnings into a failure. */
  | "LINT_VIOLATION";

/** BuildErrorCode is the union of every code @tsbuild/builder throws. */
export type BuildErrorCode =
  | DockerfileErrorCode
  /** A .dockerignore pattern is malformed (`[`, a lone `!`). */
  | "INVALID_IGNORE_PATTERN"
  /** Executing a step: a `--chown`/`--chmod` value, a user or group the image does not know. */
  | "INVALID_CHOWN"
  | "INVALID_CHMOD"
  | "UNKNOWN_USER"
  | "UNKNOWN_GROUP"
  /** A COPY/ADD source does not exist, escapes the context, or cannot be read; a bad destination. */
  | "SOURCE_NOT_FOUND"
  | "SOURCE_ESCAPES_CONTEXT"
  | "INVALID_DESTINATION"
  /** An ADD URL failed to download or did not match `--checksum`. */
  | "DOWNLOAD_FAILED"
  | "CHECKSUM_MISMATCH"
  /** A base image could not be found or has no image for the platform. */
  | "BASE_IMAGE"
  /** A step the engine cannot execute yet (RUN before the sandbox lands), or an unsupported option. */
  | "UNSUPPORTED"
  /** The build was aborted (AbortSignal, Ctrl-C). */
  | "ABORTED"
  /** An `import --change` line is not a config instruction or does not parse. */
  | "INVALID_CHANGE"
  /** A `--cache-from`/`--cache-to` value does not parse, or what a cache source holds is not a tsbuild cache. */
  | "INVALID_CACHE_OPTION"
  | "CACHE_FORMAT"
  | SandboxErrorCode;

/** SandboxErrorCode names the ways a RUN step can fail before or around its command. */
export type SandboxErrorCode =
  /** The sandbox could not be set up: no runc, no user namespace, ids not mappable, runc refused the spec. */
  | "SANDBOX_FAILED"
  /** The rootfs could not be mounted, copied or diffed, or an upper dir cannot be trusted (redirect_dir, metacopy). */
  | "SNAPSHOT_FAILED"
  /** A layer could not be unpacked into the layer cache. */
  | "UNPACK_FAILED"
  /** The step's command exited non-zero or was killed (RunFailedError). */
  | "RUN_FAILED"
  /** A container's command does not exist in its rootfs (docker's exit status 127). */
  | "COMMAND_NOT_FOUND"
  /** A container's command exists but cannot be executed: a directory, no x bit (docker's 126). */
  | "COMMAND_NOT_EXECUTABLE"
  /** Published ports need slirp4netns, which is not installed (Debian's package `slirp4netns`). */
  | "NO_SLIRP4NETNS"
  /** slirp4netns could not give the container its network or forward a port (the port is taken…). */
  | "PORT_FORWARD_FAILED";

/** BuildError is the base class of every error @tsbuild/builder throws. */
export class BuildError extends Error {
  override readonly name: string = "BuildError";
  readonly code: BuildErrorCode;

  constructor(code: BuildErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }
}

/** SandboxError is thrown by the RUN machinery (sandbox, snapshots, layer cache). */
export class SandboxError extends BuildError {
  override readonly name: string = "SandboxError";
  override readonly code: SandboxErrorCode;

  constructor(code: SandboxErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.code = code;
  }
}

/**
 * RunFailedError is a RUN whose command exited non-zero (or was killed by a
 * signal): the message reads as BuildKit's, `process "/bin/sh -c false" did
 * not complete successfully: exit code: 1`, and `output` keeps the last lines
 * it printed for the progress view to show.
 */
export class RunFailedError extends SandboxError {
  override readonly name = "RunFailedError";
  /** command is the process args as run. */
  readonly command: readonly string[];
  /** exitCode is the status, 128+N for a signal N. */
  readonly exitCode: number;
  /** output is the tail of stdout and stderr, in the order they arrived (two pipes: not always as printed). */
  readonly output: string;

  constructor(command: readonly string[], exitCode: number, output: string) {
    const tail = output.trimEnd();
    super(
      "RUN_FAILED",
      `process ${JSON.stringify(command.join(" "))} did not complete successfully: exit code: ${exitCode}` +
        (tail ? `\n${tail}` : ""),
    );
    this.command = command;
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** SourcePosition locates a problem in a Dockerfile: 1-based line and column (column 0 = whole line). */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
  /** sourceLine is the physical line the position points into, without its newline. */
  sourceLine?: string;
  /** endLine is the last line of the instruction when the problem spans several lines. */
  endLine?: number;
}

/**
 * DockerfileError is thrown for any Dockerfile the frontend rejects. It carries where the problem is, so
 * `format()` can print `file:line:col: message` with the offending line and a caret under the column.
 */
export class DockerfileError extends BuildError {
  override readonly name = "DockerfileError";
  override readonly code: DockerfileErrorCode;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly sourceLine: string | undefined;
  /** detail is the bare message, without the position prefix that `message` carries. */
  readonly detail: string;

  constructor(
    code: DockerfileErrorCode,
    detail: string,
    position: SourcePosition,
    options: { cause?: unknown } = {},
  ) {
    super(code, `${formatPosition(position)}: ${detail}`, options);
    this.code = code;
    this.detail = detail;
    this.file = position.file;
    this.line = position.line;
    this.column = position.column;
    this.endLine = position.endLine ?? position.line;
    this.sourceLine = position.sourceLine;
  }

  /** format prints the error the way a compiler does: location, message, source line, caret. */
  format(): string {
    const head = this.message;
    if (this.sourceLine === undefined) return head;
    const shown = this.sourceLine.replace(/\t/g, " ");
    const caretAt = Math.max(0, Math.min(this.column > 0 ? this.column - 1 : 0, shown.length));
    return `${head}\n  ${this.line} | ${shown}\n  ${" ".repeat(String(this.line).length)} | ${" ".repeat(caretAt)}^`;
  }
}

function formatPosition(p: SourcePosition): string {
  if (p.line <= 0) return p.file;
  return p.column > 0 ? `${p.file}:${p.line}:${p.column}` : `${p.file}:${p.line}`;
}

/** isDockerfileError narrows `err`, optionally to one code. */
export function isDockerfileError(err: unknown, code?: DockerfileErrorCode): err is DockerfileError {
  return err instanceof DockerfileError && (code === undefined || err.code === code);
}

/** isBuildError narrows `err`, optionally to one code. */
export function isBuildError(err: unknown, code?: BuildErrorCode): err is BuildError {
  return err instanceof BuildError && (code === undefined || err.code === code);
}
