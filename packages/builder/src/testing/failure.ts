import { expect } from "vitest";
import { parseDockerfile } from "../dockerfile/dockerfile.js";
import { DockerfileError } from "../errors.js";

/** failure parses Dockerfile text that must be rejected and returns its DockerfileError. */
export function failure(text: string): DockerfileError {
  try {
    parseDockerfile(text, { file: "Dockerfile" });
  } catch (e) {
    expect(e).toBeInstanceOf(DockerfileError);
    return e as DockerfileError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}
