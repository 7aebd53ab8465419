/**
 * Heredoc is one `<<WORD` body attached to a RUN/COPY/ADD line. `content` is raw (tabs kept even for
 * `<<-`; see chompHeredocContent), `expand` is false when any part of WORD was quoted.
 */
export interface Heredoc {
  name: string;
  /** fileDescriptor is the `N` of `N<<WORD`, 0 when absent. */
  fileDescriptor: number;
  expand: boolean;
  /** chomp is true for `<<-`: leading tabs are stripped from the content when it is used. */
  chomp: boolean;
  content: string;
}

/**
 * InstructionNode is one parsed instruction, the equivalent of a top-level BuildKit `Node`: the keyword,
 * the `--flags`, the argument nodes (split according to the instruction's rule) and where it came from.
 */
export interface InstructionNode {
  /** keyword is the lower-cased instruction name (`run`), or the lower-cased unknown word. */
  keyword: string;
  /** rawKeyword is the keyword exactly as written (`Run`), for casing lint rules. */
  rawKeyword: string;
  /** flags are the leading `--name[=value]` words, quotes removed, `--` dropped. */
  flags: string[];
  /** args are the argument nodes (see the README of the conformance corpus for the per-instruction rule). */
  args: string[];
  /** json is true when the arguments were a JSON array (exec form). */
  json: boolean;
  /** sub is the trigger instruction of ONBUILD. */
  sub?: InstructionNode;
  /** heredocs are the bodies read after the line, in order. */
  heredocs: Heredoc[];
  /** original is the logical line: continuations joined, comments removed, left-trimmed. */
  original: string;
  /** startLine and endLine are 1-based; endLine includes continuation lines and heredoc bodies. */
  startLine: number;
  endLine: number;
  /** comments are the `#` comment lines directly above the instruction (text after `#`, trimmed). */
  comments: string[];
}

/** Directive is a parser directive from the top of the file (`# syntax=…`, `# escape=…`, `# check=…`). */
export interface Directive {
  name: "syntax" | "escape" | "check";
  value: string;
  /** line is 1-based. */
  line: number;
}

/** ParseWarning is a non-fatal finding, such as an empty line inside a continuation. */
export interface ParseWarning {
  /** rule is a stable identifier (`NoEmptyContinuation`). */
  rule: string;
  short: string;
  detail: string;
  url: string;
  startLine: number;
  endLine: number;
}

/** ParsedDockerfile is the AST of one Dockerfile. */
export interface ParsedDockerfile {
  file: string;
  children: InstructionNode[];
  directives: Directive[];
  escapeToken: "\\" | "`";
  warnings: ParseWarning[];
  /** lines are the physical source lines (BOM and line endings removed), for error positions. */
  lines: string[];
}
