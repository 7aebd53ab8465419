export { type Dockerfile, type DockerfileParseOptions, parseDockerfile } from "./dockerfile/dockerfile.js";
export * from "./dockerfile/instructions/index.js";
export * from "./dockerfile/parser/index.js";
export {
  BuildError,
  type BuildErrorCode,
  DockerfileError,
  type DockerfileErrorCode,
  isBuildError,
  isDockerfileError,
  type SourcePosition,
} from "./errors.js";
