import type { DockerfileErrorCode } from "../../errors.js";

/**
 * ParseProblem is thrown by the line-level helpers, which do not know where the line is; the parser
 * catches it and rethrows a DockerfileError with file, line and column.
 */
export class ParseProblem extends Error {
  override readonly name = "ParseProblem";
  constructor(
    readonly code: DockerfileErrorCode,
    message: string,
    /** needle is a piece of the line to point the caret at, when known. */
    readonly needle?: string,
  ) {
    super(message);
  }
}
