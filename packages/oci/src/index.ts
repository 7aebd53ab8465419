export * from "./digest.js";
export * from "./errors.js";
export * from "./layer/index.js";
export * from "./media-types.js";
export * from "./reference.js";
export type * from "./types.js";
