export { commandLine } from "./command.js";
export { formatGoDuration, parseGoDuration } from "./duration.js";
export { MINIMUM_DURATION_NS } from "./healthcheck.js";
export { type MountOptions, parseRamSize } from "./mount.js";
export { INSTRUCTION_KINDS, type InstructionSource, parseInstruction } from "./parse.js";
export { resolveMounts } from "./run.js";
export type * from "./types.js";
