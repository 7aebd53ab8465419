/**
 * The `tsbuild` command line: {@link run} runs it in-process with the given arguments.
 *
 * @packageDocumentation
 * @module @tsbuild/cli
 */
export { run } from "./cli.js";
