// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile sources use `${}` syntax

import type { Platform } from "@tsbuild/oci";
import { describe, expect, it } from "vitest";
import type { Instruction } from "../dockerfile/instructions/types.js";
import { isDockerfileError } from "../errors.js";
import { unusedBuildArgsWarning } from "./args.js";
import { planBuild } from "./plan.js";
import type { PlanOptions } from "./types.js";

const AMD64: Platform = { os: "linux", architecture: "amd64" };
const ARM64: Platform = { os: "linux", architecture: "arm64" };
const base: PlanOptions = { targetPlatform: AMD64, buildPlatform: AMD64 };

function plan(src: string, options: PlanOptions = {}) {
  return planBuild(src, { ...base, ...options });
}

/** lastExpanded returns the expanded form of the last instruction of the target stage. */
function last(src: string, options: PlanOptions = {}): Instruction {
  const p = plan(src, options);
  const stage = p.stages.find((s) => s.index === p.target)!;
  return stage.steps[stage.steps.length - 1]!.expanded;
}

function label(src: string, options: PlanOptions = {}): string | undefined {
  const ins = last(src, options);
  if (ins.kind !== "label") throw new Error(`expected LABEL, got ${ins.kind}`);
  return ins.pairs[0]?.value;
}

function planError(src: string, options: PlanOptions = {}) {
  try {
    plan(src, options);
  } catch (err) {
    if (isDockerfileError(err)) return err;
    throw err;
  }
  throw new Error("expected a DockerfileError");
}

describe("ARG scoping", () => {
  it.each([
    ["global ARG is used in FROM", "ARG TAG=3.19\nFROM alpine:$TAG\n", {}, "alpine:3.19"],
    [
      "--build-arg overrides a global default",
      "ARG TAG=3.19\nFROM alpine:${TAG}\n",
      { TAG: "edge" },
      "alpine:edge",
    ],
    [
      "global ARG default sees earlier globals",
      "ARG R=reg.io\nARG IMG=$R/app\nFROM $IMG\n",
      {},
      "reg.io/app",
    ],
    ["TARGETARCH is a global without declaration", "FROM busybox:$TARGETARCH\n", {}, "busybox:amd64"],
    ["FROM names an earlier stage", "FROM scratch AS a\nFROM a\n", {}, "stage:0"],
  ])("%s", (_name, src, buildArgs, expected) => {
    const p = plan(src, { buildArgs });
    const b = p.stages[p.stages.length - 1]!.base;
    const got = b.kind === "image" ? b.ref : b.kind === "stage" ? `stage:${b.stage}` : "scratch";
    expect(got).toBe(expected);
  });

  it.each([
    ["a global ARG is not visible in a stage", "ARG V=1\nFROM scratch\nLABEL l=$V\n", {}, ""],
    ["a redeclared global ARG takes the global value", "ARG V=1\nFROM scratch\nARG V\nLABEL l=$V\n", {}, "1"],
    [
      "a redeclared global ARG takes the build arg",
      "ARG V=1\nFROM scratch\nARG V\nLABEL l=$V\n",
      { V: "2" },
      "2",
    ],
    ["a stage ARG default", "FROM scratch\nARG V=d\nLABEL l=$V\n", {}, "d"],
    ["--build-arg overrides a stage default", "FROM scratch\nARG V=d\nLABEL l=$V\n", { V: "o" }, "o"],
    ["ARG default expands earlier ARGs", "FROM scratch\nARG A=x\nARG B=${A}y\nLABEL l=$B\n", {}, "xy"],
    ["ENV shadows an earlier ARG", "FROM scratch\nARG X=1\nENV X=2\nLABEL l=$X\n", {}, "2"],
    ["a build arg is invisible without ARG", "FROM scratch\nLABEL l=$V\n", { V: "x" }, ""],
    ["TARGETARCH in a stage needs ARG", "FROM scratch\nLABEL l=${TARGETARCH:-none}\n", {}, "none"],
    ["TARGETARCH after ARG", "FROM scratch\nARG TARGETARCH\nLABEL l=$TARGETARCH\n", {}, "arm64"],
    [
      "TARGETPLATFORM has no arm64 variant",
      "FROM scratch\nARG TARGETPLATFORM\nLABEL l=$TARGETPLATFORM\n",
      {},
      "linux/arm64",
    ],
    [
      "BUILDPLATFORM is the build platform",
      "FROM scratch\nARG BUILDPLATFORM\nLABEL l=$BUILDPLATFORM\n",
      {},
      "linux/amd64",
    ],
    [
      "TARGETSTAGE is the target's name",
      "FROM scratch AS final\nARG TARGETSTAGE\nLABEL l=$TARGETSTAGE\n",
      {},
      "final",
    ],
    ["args carry into a stage built on a stage", "FROM scratch AS a\nARG V=1\nFROM a\nLABEL l=$V\n", {}, "1"],
    [
      "ENV carries into a stage built on a stage",
      "FROM scratch AS a\nENV V=e\nFROM a\nLABEL l=$V\n",
      {},
      "e",
    ],
  ])("%s", (_name, src, buildArgs, expected) => {
    expect(label(src, { buildArgs, targetPlatform: ARM64 })).toBe(expected);
  });

  it("reports build args nothing consumed, as docker does", () => {
    const p = plan("ARG G\nFROM scratch\nARG USED\n", {
      buildArgs: { USED: "1", G: "1", ZED: "1", ALPHA: "1", HTTP_PROXY: "http://p", TARGETARCH: "arm64" },
    });
    expect(p.unusedBuildArgs).toEqual(["ALPHA", "ZED"]);
    expect(unusedBuildArgsWarning(p.unusedBuildArgs)).toBe(
      "[Warning] One or more build-args [ALPHA ZED] were not consumed",
    );
  });

  it("an ARG in a pruned stage does not consume its build arg", () => {
    const p = plan("FROM scratch AS a\nARG X\nFROM scratch AS b\n", { buildArgs: { X: "1" }, target: "b" });
    expect(p.unusedBuildArgs).toEqual(["X"]);
  });

  it("gives proxy build args to RUN without ARG and keeps them out of step args", () => {
    const p = plan("FROM scratch\nRUN env\n", { buildArgs: { HTTP_PROXY: "http://p", no_proxy: "x" } });
    expect(p.proxyEnv).toEqual({
      HTTP_PROXY: "http://p",
      http_proxy: "http://p",
      NO_PROXY: "x",
      no_proxy: "x",
    });
    const step = p.stages[0]!.steps[0]!;
    expect(step.buildArgs).toEqual([]);
    expect(step.env.map(([k]) => k)).toEqual(["PATH"]);
  });

  it("gives RUN the env and the declared args in order", () => {
    const p = plan("FROM scratch\nARG A=1\nENV B=2\nARG C\nRUN env\n");
    const step = p.stages[0]!.steps[3]!;
    expect(step.env).toEqual([
      ["PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      ["A", "1"],
      ["B", "2"],
    ]);
    expect(step.buildArgs).toEqual([
      { key: "A", value: "1" },
      { key: "C", value: undefined },
    ]);
  });

  it("uses a supplied base image env for expansion", () => {
    const src = "FROM golang\nWORKDIR $GOPATH/src\n";
    const ins = last(src, { imageConfig: () => ({ env: ["GOPATH=/go", "PATH=/go/bin"] }) });
    expect(ins).toMatchObject({ kind: "workdir", path: "/go/src" });
  });
});

describe("expansion happens where BuildKit expands", () => {
  const env = "FROM scratch\nENV D=/data U=app P=8080 S=SIGTERM\n";
  it.each([
    [
      "COPY",
      `${env}COPY --chown=$U:$U $D/a "\${D}/b" $D/\n`,
      { sources: ["/data/a", "/data/b"], dest: "/data/", chown: "app:app" },
    ],
    ["COPY JSON form", `${env}COPY ["$D/a b", "$D/"]\n`, { sources: ["/data/a b"], dest: "/data/" }],
    ["ADD", `${env}ADD --chown=$U $D/x.tar /\n`, { sources: ["/data/x.tar"], dest: "/", chown: "app" }],
    ["WORKDIR", `${env}WORKDIR $D/w\n`, { path: "/data/w" }],
    ["USER", `${env}USER \${U}:1000\n`, { user: "app:1000" }],
    ["VOLUME", `${env}VOLUME $D /logs\n`, { paths: ["/data", "/logs"] }],
    ["STOPSIGNAL", `${env}STOPSIGNAL $S\n`, { signal: "SIGTERM" }],
    [
      "EXPOSE splits words",
      `${env}ENV PS="80 443/udp"\nEXPOSE $P $PS\n`,
      { ports: ["8080", "80", "443/udp"] },
    ],
    [
      "LABEL keys and values",
      `${env}LABEL "$U.dir"="$D" other=x\n`,
      {
        pairs: [
          { key: "app.dir", value: "/data" },
          { key: "other", value: "x" },
        ],
      },
    ],
    [
      "ENV sees values from before the instruction",
      "FROM scratch\nENV A=old\nENV A=new B=$A\n",
      {
        pairs: [
          { key: "A", value: "new" },
          { key: "B", value: "old" },
        ],
      },
    ],
    ["RUN is left to the shell", `${env}RUN echo $D\n`, { command: { args: ["echo $D"] } }],
    ["CMD is left to the shell", `${env}CMD echo $D\n`, { command: { args: ["echo $D"] } }],
    ["ENTRYPOINT exec form is not expanded", `${env}ENTRYPOINT ["$D"]\n`, { command: { args: ["$D"] } }],
    ["ONBUILD is not expanded", `${env}ONBUILD RUN echo $D\n`, { expression: "RUN echo $D" }],
  ])("%s", (_name, src, expected) => {
    expect(last(src)).toMatchObject(expected);
  });

  it("expands COPY heredocs unless the delimiter is quoted", () => {
    const p = plan("FROM scratch\nENV N=x\nCOPY <<EOF <<'RAW' /d/\n$N \"q\"\nEOF\n$N\nRAW\n");
    const copy = p.stages[0]!.steps[1]!.expanded;
    expect(copy.kind === "copy" && copy.contents.map((c) => c.data)).toEqual(['x "q"\n', "$N\n"]);
  });

  it("expands RUN --mount values but not from=", () => {
    const p = plan(
      "FROM scratch AS b\nFROM scratch\nARG ID=cache1\nRUN --mount=type=cache,id=$ID,target=/c,from=b true\n",
    );
    const run = p.stages[1]!.steps[1]!;
    expect(run.expanded.kind === "run" && run.expanded.mounts[0]).toMatchObject({
      id: "cache1",
      target: "/c",
      from: "b",
    });
    expect(run.fromStages).toEqual([0]);
  });

  it.each([
    [
      "a malformed substitution",
      "FROM scratch\nWORKDIR ${X:-a\n",
      "Dockerfile:2:9: failed to process \"${X:-a\": syntax error: missing '}'",
    ],
    [
      "${VAR?} on an unset VAR",
      'FROM scratch\nENV A="${NOPE?must be set}"\n',
      'Dockerfile:2:7: failed to process "\\"${NOPE?must be set}\\"": NOPE: must be set',
    ],
    ["a blank base name", "ARG IMG\nFROM $IMG\n", "Dockerfile:2:1: base name ($IMG) should not be blank"],
    ["a bad platform", "FROM --platform=linux/a/b/c scratch\n", "Dockerfile:2:1"],
    ["an empty VOLUME", "FROM scratch\nVOLUME $NOPE\n", "VOLUME specified can not be an empty string"],
    ["a bad STOPSIGNAL", "FROM scratch\nSTOPSIGNAL SIGNOPE\n", "Invalid signal: SIGNOPE"],
    ["a bad EXPOSE", "FROM scratch\nEXPOSE 80/xyz\n", "invalid proto: xyz"],
    [
      "an instruction before FROM",
      "ENV A=1\nFROM scratch\n",
      "Dockerfile:1:1: no build stage in current context",
    ],
  ])("rejects %s", (_name, src, message) => {
    const err = planError(src);
    if (message.startsWith("Dockerfile:2:1") && message.length === 14) {
      expect(err.code).toBe("INVALID_PLATFORM");
      return;
    }
    expect(err.message).toContain(message);
  });

  it("points the caret at the offending word", () => {
    const err = planError("FROM scratch\nWORKDIR /a/${X:-a\n");
    expect(err.format()).toBe(
      "Dockerfile:2:9: failed to process \"/a/${X:-a\": syntax error: missing '}'\n  2 | WORKDIR /a/${X:-a\n    |         ^",
    );
  });
});

describe("stage graph", () => {
  const multi = [
    "FROM scratch AS deps", // 0
    "FROM scratch AS Builder", // 1
    "COPY --from=DEPS /x /x",
    "FROM alpine AS unused", // 2
    "FROM scratch AS tools", // 3
    "FROM builder AS test", // 4
    "RUN --mount=from=tools,target=/t true",
    "FROM scratch", // 5
    "COPY --from=builder /x /x",
    "COPY --from=0 /y /y",
    "COPY --from=busybox:1.36 /bin/sh /sh",
    "",
  ].join("\n");

  it("resolves stage names case-insensitively, indexes and images", () => {
    const p = plan(multi);
    const final = p.stages.find((s) => s.index === 5)!;
    expect(final.steps.map((s) => [s.fromStages, s.fromImages])).toEqual([
      [[1], undefined],
      [[0], undefined],
      [undefined, ["busybox:1.36"]],
    ]);
    expect(p.stages.find((s) => s.index === 1)!.name).toBe("builder");
  });

  it("prunes stages the target does not need", () => {
    expect(plan(multi).stages.map((s) => s.index)).toEqual([0, 1, 5]);
    expect(plan(multi, { target: "TEST" }).stages.map((s) => s.index)).toEqual([0, 1, 3, 4]);
    expect(plan(multi, { allStages: true }).stages.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("groups stages that can run in parallel", () => {
    expect(plan(multi, { allStages: true }).parallelGroups).toEqual([[0, 2, 3], [1], [4, 5]]);
    expect(plan(multi, { target: "test" }).parallelGroups).toEqual([[0, 3], [1], [4]]);
  });

  it("records the edges", () => {
    const test = plan(multi, { target: "test" }).stages.find((s) => s.index === 4)!;
    expect(test.dependsOn.map((e) => [e.stage, e.via, e.location.startLine])).toEqual([
      [1, "from", 6],
      [3, "mount", 7],
    ]);
  });

  it.each([
    [
      "an unknown target",
      multi,
      { target: "nope" },
      "UNKNOWN_TARGET",
      'target stage "nope" could not be found',
    ],
    ["a close target name", multi, { target: "tesst" }, "UNKNOWN_TARGET", "(did you mean test?)"],
    [
      "an out-of-range index",
      "FROM scratch\nCOPY --from=3 / /\n",
      {},
      "UNKNOWN_STAGE",
      "Dockerfile:2:13: invalid stage index 3",
    ],
    [
      "a base named with the wrong case (stage lookup is exact, so it is an image name, and invalid)",
      "FROM scratch AS build\nFROM Build\n",
      {},
      "INVALID_BASE_NAME",
      'Dockerfile:2:6: failed to parse stage name "Build": invalid reference format: repository name (library/Build) must be lowercase',
    ],
    [
      "an invalid image name, even in a stage the target does not need",
      "ARG V\nFROM alpine:$V AS unused\nFROM scratch\n",
      {},
      "INVALID_BASE_NAME",
      'failed to parse stage name "alpine:"',
    ],
    [
      "a variable in COPY --from (BuildKit's graph is settled before any scope)",
      "ARG V=1\nFROM scratch\nCOPY --from=img:${V} . .\n",
      {},
      "INVALID_STAGE_REFERENCE",
      "Dockerfile:3:6: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
    ],
    [
      "a stage copying from itself",
      "FROM scratch AS a\nCOPY --from=a / /\n",
      {},
      "CIRCULAR_DEPENDENCY",
      "Dockerfile:2:1: circular dependency detected on stage: a",
    ],
    [
      "a two-stage cycle",
      "FROM scratch AS a\nCOPY --from=b / /\nFROM scratch AS b\nCOPY --from=a / /\n",
      {},
      "CIRCULAR_DEPENDENCY",
      "circular dependency detected on stage",
    ],
    [
      "a later stage",
      "FROM scratch AS a\nCOPY --from=b / /\nFROM scratch AS b\n",
      { target: "a" },
      "INVALID_STAGE_REFERENCE",
      'Dockerfile:2:13: cannot copy from stage "b", it needs to be defined before current stage "a"',
    ],
    [
      "a later stage by index",
      "FROM scratch\nCOPY --from=1 / /\nFROM scratch\n",
      { allStages: true },
      "INVALID_STAGE_REFERENCE",
      'cannot copy from stage "1"',
    ],
    [
      "a later stage in a mount",
      "FROM scratch\nRUN --mount=from=b,target=/b true\nFROM scratch AS b\n",
      { allStages: true },
      "INVALID_STAGE_REFERENCE",
      'cannot mount from stage "b"',
    ],
  ])("rejects %s", (_name, src, options, code, message) => {
    const err = planError(src, options as PlanOptions);
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });

  it("does not complain about a later stage the target does not need", () => {
    expect(
      plan("FROM scratch AS a\nCOPY --from=b / /\nFROM scratch AS b\nFROM scratch AS c\n", { target: "c" })
        .stages,
    ).toHaveLength(1);
  });

  it("takes the platform from FROM --platform, or from the base stage", () => {
    const p = plan("FROM --platform=$BUILDPLATFORM scratch AS b\nFROM b AS c\nFROM scratch\n", {
      targetPlatform: ARM64,
      allStages: true,
    });
    expect(p.stages.map((s) => `${s.platform.architecture}:${s.platformFromFlag}`)).toEqual([
      "amd64:true",
      "amd64:true",
      "arm64:false",
    ]);
  });

  it("runs the ONBUILD triggers of a base stage first", () => {
    const p = plan(
      "FROM scratch AS tools\nFROM scratch AS base\nONBUILD COPY --from=tools /t /t\nFROM base\nRUN true\n",
    );
    const final = p.stages[p.stages.length - 1]!;
    expect(final.steps.map((s) => [s.instruction.kind, s.onbuild ?? false])).toEqual([
      ["copy", true],
      ["run", false],
    ]);
    expect(final.dependsOn.map((e) => e.stage)).toEqual([1, 0]);
  });

  it("runs the ONBUILD triggers of a base image when its config is known", () => {
    const p = plan("FROM app-onbuild\n", { imageConfig: () => ({ onBuild: ["COPY . /app"] }) });
    expect(p.stages[0]!.steps.map((s) => s.expanded)).toMatchObject([
      { kind: "copy", sources: ["."], dest: "/app" },
    ]);
  });
});
