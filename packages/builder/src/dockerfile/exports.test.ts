import { describe, expect, it } from "vitest";
import * as builder from "../index.js";

// The Dockerfile frontend's part of the public API, pinned: removing or renaming one is a breaking change.
const FRONTEND_EXPORTS = [
  "BuildError",
  "DockerfileError",
  "INSTRUCTION_KINDS",
  "MAX_LINE_BYTES",
  "MINIMUM_DURATION_NS",
  "chompHeredocContent",
  "commandLine",
  "detectSyntax",
  "dump",
  "dumpNode",
  "findDirective",
  "formatGoDuration",
  "goQuote",
  "heredocsFromLine",
  "isBuildError",
  "isDockerfileError",
  "matchDirectiveLine",
  "parse",
  "parseDirectives",
  "parseDockerfile",
  "parseGoDuration",
  "parseHeredocWord",
  "parseInstruction",
  "parseJSONArray",
  "parseNameVal",
  "parseRamSize",
  "parseWords",
  "resolveMounts",
];

describe("@tsbuild/builder public API (Dockerfile frontend)", () => {
  it.each(FRONTEND_EXPORTS)("exports %s", (name) => {
    expect(builder).toHaveProperty(name);
  });
});
