// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile sources use `${}` syntax
import { describe, expect, it } from "vitest";
import { type CheckOptions, checkDockerfile } from "./check.js";
import { formatCheckReport, sourceSnippet } from "./format.js";
import { parseLintConfig } from "./linter.js";

const AMD64 = { os: "linux", architecture: "amd64" };
const opts: CheckOptions = { targetPlatform: AMD64, buildPlatform: AMD64 };

function findings(src: string, options: CheckOptions = {}): string[] {
  const r = checkDockerfile(src, { ...opts, ...options });
  if (r.error) throw r.error;
  return r.warnings.map((w) => `${w.rule}:${w.location.startLine}: ${w.message}`);
}

// Each rule: a Dockerfile that triggers it (with the exact finding) and a close one that does not.
const cases: [rule: string, positive: string, finding: string, negative: string][] = [
  [
    "JSONArgsRecommended",
    "FROM scratch\nCMD echo hi\n",
    "JSONArgsRecommended:2: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
    'FROM scratch\nCMD ["echo", "hi"]\nSHELL ["/bin/sh", "-c"]\nENTRYPOINT echo hi\n',
  ],
  [
    "StageNameCasing",
    "FROM scratch AS Builder\n",
    "StageNameCasing:1: Stage name 'Builder' should be lowercase",
    "FROM scratch AS builder\n",
  ],
  [
    "FromAsCasing",
    "FROM scratch as builder\n",
    "FromAsCasing:1: 'as' and 'FROM' keywords' casing do not match",
    "FROM scratch AS builder\nfrom scratch as other\n",
  ],
  [
    "UndefinedVar",
    "FROM scratch\nENV PATHS=$PATHH\nCOPY $NOPE /\n",
    "UndefinedVar:2: Usage of undefined variable '$PATHH' (did you mean $PATH?)",
    "FROM scratch\nARG DECLARED\nENV A=1\nCOPY $A$DECLARED /\nRUN echo $UNDEFINED_IN_RUN_IS_FINE\n",
  ],
  [
    "UndefinedArgInFrom",
    "ARG VERSION=1\nFROM alpine$VERSIO\n",
    "UndefinedArgInFrom:2: FROM argument 'VERSIO' is not declared (did you mean VERSION?)",
    "ARG VERSION\nFROM alpine:${VERSION:-3}\nFROM --platform=$BUILDPLATFORM alpine:$TARGETARCH\n",
  ],
  [
    "DuplicateStageName",
    "FROM scratch AS a\nFROM scratch AS a\n",
    'DuplicateStageName:2: Duplicate stage name "a", stage names should be unique',
    "FROM scratch AS a\nFROM scratch AS b\n",
  ],
  [
    "ReservedStageName",
    "FROM scratch AS context\n",
    'ReservedStageName:1: Stage name should not use the same name as reserved stage "context"',
    "FROM scratch AS contexts\n",
  ],
  [
    "MaintainerDeprecated",
    "FROM scratch\nMAINTAINER me <me@example.com>\n",
    "MaintainerDeprecated:2: Maintainer instruction is deprecated in favor of using label",
    'FROM scratch\nLABEL org.opencontainers.image.authors="me@example.com"\n',
  ],
  [
    "ConsistentInstructionCasing",
    "FROM scratch\nRUN true\nrun true\nCOPY a b\n",
    "ConsistentInstructionCasing:3: Command 'run' should match the case of the command majority (uppercase)",
    "from scratch\nrun true\ncopy a b\n",
  ],
  [
    "SecretsUsedInArgOrEnv",
    "FROM scratch\nARG GITHUB_TOKEN\n",
    'SecretsUsedInArgOrEnv:2: Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")',
    "FROM scratch\nARG PUBLIC_KEY\nENV TOKENIZER=x KEYBOARD=y\n",
  ],
  [
    "WorkdirRelativePath",
    "FROM scratch\nWORKDIR app\n",
    'WorkdirRelativePath:2: Relative workdir "app" can have unexpected results if the base image changes',
    "FROM scratch AS base\nWORKDIR /app\nFROM base\nWORKDIR sub\n",
  ],
  [
    "MultipleInstructionsDisallowed",
    'FROM scratch\nCMD ["a"]\nCMD ["b"]\n',
    "MultipleInstructionsDisallowed:2: Multiple CMD instructions should not be used in the same stage because only the last one will be used",
    'FROM scratch AS a\nCMD ["a"]\nFROM a\nCMD ["b"]\n',
  ],
  [
    "NoEmptyContinuation",
    "FROM scratch\nRUN echo a \\\n\n  b\n",
    "NoEmptyContinuation:4: Empty continuation line",
    "FROM scratch\nRUN echo a \\\n# a comment line\n  b\n",
  ],
  [
    "LegacyKeyValueFormat",
    "FROM scratch\nENV A b\n",
    '"ENV key=value" should be used instead of legacy "ENV key value" format',
    "FROM scratch\nENV A=b\nLABEL a=b\n",
  ],
  [
    "InvalidDefaultArgInFrom",
    "ARG IMAGE\nFROM $IMAGE\n",
    "InvalidDefaultArgInFrom:2: Default value for ARG $IMAGE results in empty or invalid base image name",
    "ARG IMAGE=alpine\nFROM $IMAGE\n",
  ],
  [
    "RedundantTargetPlatform",
    "FROM --platform=$TARGETPLATFORM scratch\n",
    "RedundantTargetPlatform:1: Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
    "FROM --platform=$BUILDPLATFORM scratch\n",
  ],
  [
    "FromPlatformFlagConstDisallowed",
    "FROM --platform=linux/amd64 scratch AS build\n",
    'FromPlatformFlagConstDisallowed:1: FROM --platform flag should not use constant value "linux/amd64"',
    "FROM --platform=linux/amd64 scratch AS build-amd64\n",
  ],
  [
    "ExposeProtoCasing",
    "FROM scratch\nEXPOSE 80/TCP\n",
    "ExposeProtoCasing:2: Defined protocol '80/TCP' in EXPOSE instruction should be lowercase",
    "FROM scratch\nEXPOSE 80/tcp 53/udp 8000-8010\n",
  ],
  [
    "ExposeInvalidFormat",
    "FROM scratch\nEXPOSE 127.0.0.1:80:80\n",
    "ExposeInvalidFormat:2: EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'",
    "FROM scratch\nEXPOSE 80\n",
  ],
];

describe("lint rules", () => {
  it.each(cases)("%s fires", (rule, positive, finding) => {
    const out = findings(
      positive,
      rule === "InvalidDefaultArgInFrom" ? { buildArgs: { IMAGE: "alpine" } } : {},
    );
    expect(out.some((f) => f.includes(finding))).toBe(true);
  });

  it.each(cases)("%s stays quiet", (rule, _positive, _finding, negative) => {
    expect(findings(negative).filter((f) => f.startsWith(`${rule}:`))).toEqual([]);
  });

  it("keeps BuildKit's emission order for findings on one line (parse rules, then stage names, then casing)", () => {
    expect(findings("FROM scratch AS a\nfrom scratch as A\nRUN x\n").map((f) => f.split(":")[0])).toEqual([
      "StageNameCasing",
      "DuplicateStageName",
      "ConsistentInstructionCasing",
    ]);
  });

  it("flags a mixed-case keyword against the majority, as current BuildKit's validateCaseMatch does", () => {
    // (BuildKit before 2025 said "Command 'Run' should be consistently cased"; its docs still show that text.)
    expect(findings("FROM scratch\nRun true\nRUN true\n")).toEqual([
      "ConsistentInstructionCasing:2: Command 'Run' should match the case of the command majority (uppercase)",
    ]);
  });

  it("stays quiet about variables of a base image whose config is unknown", () => {
    expect(findings("FROM golang\nWORKDIR $GOPATH/src\n")).toEqual([]);
    expect(findings("FROM golang\nWORKDIR $GOPATH/src\n", { imageConfig: () => ({ env: [] }) })).toEqual([
      "UndefinedVar:2: Usage of undefined variable '$GOPATH' (did you mean $PATH?)",
    ]);
  });

  it("honours # check=skip and BUILDKIT_DOCKERFILE_CHECK", () => {
    const src = "# check=skip=JSONArgsRecommended,StageNameCasing\nFROM scratch AS A\nCMD x\nMAINTAINER m\n";
    expect(findings(src)).toEqual([
      "MaintainerDeprecated:4: Maintainer instruction is deprecated in favor of using label",
    ]);
    expect(findings(src, { buildArgs: { BUILDKIT_DOCKERFILE_CHECK: "skip=all" } })).toEqual([]);
  });

  it("turns warnings into an error with # check=error=true", () => {
    const r = checkDockerfile("# check=error=true\nFROM scratch\nCMD x\nMAINTAINER m\n", opts);
    expect(r.error?.code).toBe("LINT_VIOLATION");
    expect(r.error?.detail).toBe("lint violation found for rules: MaintainerDeprecated, JSONArgsRecommended");
    expect(r.warnings).toHaveLength(2);
  });

  it("reports a malformed # check= directive", () => {
    const r = checkDockerfile("# check=error=maybe\nFROM scratch\n", opts);
    expect(r.error?.code).toBe("INVALID_DIRECTIVE");
    expect(r.error?.message).toContain("Dockerfile:1:1: failed to parse check options");
  });

  it("reports parse errors with their position and keeps earlier warnings", () => {
    const r = checkDockerfile(
      "FROM scratch\nMAINTAINER m\nCOPY --from=nope-$ /a /b\nFROM scratch\nCOPY --from=9 / /\n",
      opts,
    );
    expect(r.error?.code).toBe("UNKNOWN_STAGE");
    expect(r.warnings.map((w) => w.rule)).toEqual(["MaintainerDeprecated"]);
  });

  it("checks only the target's stages when one is given", () => {
    const src = "FROM scratch AS a\nCMD x\nFROM scratch AS b\n";
    expect(findings(src).map((f) => f.split(":")[0])).toEqual(["JSONArgsRecommended"]);
    expect(findings(src, { target: "b" })).toEqual([]);
  });
});

describe("check output", () => {
  it("prints docker's summary for a clean file", () => {
    expect(formatCheckReport(checkDockerfile('FROM scratch\nCMD ["x"]\n', opts))).toBe(
      "Check complete, no warnings found.\n",
    );
  });

  it("prints each warning with its location and the source around it", () => {
    const r = checkDockerfile("FROM scratch\nRUN true\nCMD echo hi\n", opts);
    expect(formatCheckReport(r)).toBe(
      [
        "Check complete, 1 warning has been found!",
        "",
        "WARNING: JSONArgsRecommended - https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
        "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
        "Dockerfile:3",
        "--------------------",
        "   1 |     FROM scratch",
        "   2 |     RUN true",
        "   3 | >>> CMD echo hi",
        "   4 |     ",
        "--------------------",
        "",
      ].join("\n"),
    );
  });

  it("counts several warnings", () => {
    expect(formatCheckReport(checkDockerfile("FROM scratch\nCMD a\nENTRYPOINT b\n", opts))).toMatch(
      /^Check complete, 2 warnings have been found!\n/,
    );
  });

  it("pads one-line snippets like BuildKit: two lines each side, fewer at the edges", () => {
    const lines = ["a", "b", "c", "d", "e", "f", "g"];
    const shown = (s: number, e: number) =>
      sourceSnippet(lines, s, e)
        .split("\n")
        .slice(1, -2)
        .map((l) => l.slice(0, 4).trim());
    expect(shown(4, 4)).toEqual(["2", "3", "4", "5", "6"]);
    expect(shown(1, 1)).toEqual(["1", "2", "3"]);
    expect(shown(7, 7)).toEqual(["5", "6", "7"]);
    expect(shown(2, 2)).toEqual(["1", "2", "3", "4"]);
  });

  it("pads snippets like BuildKit", () => {
    const lines = ["a", "b", "c", "d", "e", "f", "g"];
    expect(sourceSnippet(lines, 4, 5).split("\n").slice(1, -2)).toEqual([
      "   3 |     c",
      "   4 | >>> d",
      "   5 | >>> e",
      "   6 |     f",
    ]);
  });

  it("parses check configs like BuildKit", () => {
    expect(parseLintConfig(" skip = A, B ; error = true ")).toMatchObject({ errorOnWarning: true });
    expect([...parseLintConfig("skip=A, B").skip]).toEqual(["A", "B"]);
    expect(() => parseLintConfig("nope=1")).toThrow('invalid check option "nope"');
    expect(() => parseLintConfig("skip")).toThrow('invalid check option "skip"');
  });
});

describe("WorkdirRelativePath on unknown bases", () => {
  it("takes a drive-letter path as absolute when the base image (maybe Windows) is unknown", () => {
    expect(findings("FROM mcr.microsoft.com/windows/nanoserver\nWORKDIR C:\\\\app\n")).toEqual([]);
    expect(findings("FROM scratch\nWORKDIR C:\\\\app\n").map((f) => f.split(":")[0])).toEqual([
      "WorkdirRelativePath",
    ]);
  });
});

describe("CopyIgnoredFile (experimental)", () => {
  const src =
    "# check=experimental=CopyIgnoredFile\nFROM scratch AS b\nCOPY secret.txt app/ /\nFROM scratch\nCOPY --from=b secret.txt /\nADD https://x/secret.txt /\n";
  it("fires for context files the .dockerignore excludes", () => {
    expect(findings(src, { ignorePatterns: ["secret.txt", "app/cache"] })).toEqual([
      'CopyIgnoredFile:3: Attempting to Copy file "secret.txt" that is excluded by .dockerignore',
    ]);
  });
  it("runs only when enabled", () => {
    expect(findings(src.replace("experimental", "skip"), { ignorePatterns: ["secret.txt"] })).toEqual([]);
  });
});

describe("InvalidDefinitionDescription (experimental)", () => {
  const on = "# check=experimental=InvalidDefinitionDescription\n";
  it("fires for a comment above ARG or FROM AS that does not start with the name", () => {
    expect(
      findings(`${on}\n# the version to use\nARG VERSION=1\n# the base image\nFROM scratch AS base\n`),
    ).toEqual([
      "InvalidDefinitionDescription:4: Comment for ARG should follow the format: `# VERSION <description>`",
      "InvalidDefinitionDescription:6: Comment for FROM should follow the format: `# base <description>`",
    ]);
  });
  it("accepts proper descriptions and separated comments", () => {
    expect(
      findings(`${on}\n# VERSION the version to use\nARG VERSION=1\n# note\n#\nFROM scratch AS base\n`),
    ).toEqual([]);
  });
});
