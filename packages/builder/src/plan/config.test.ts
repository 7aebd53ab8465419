// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile sources use `${}` syntax
import { describe, expect, it } from "vitest";
import { formatGoDuration } from "../dockerfile/instructions/duration.js";
import { foldPlan } from "./config.js";
import { planBuild } from "./plan.js";
import type { PlanOptions } from "./types.js";

const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const AMD64 = { os: "linux", architecture: "amd64" };

/** fold plans a Dockerfile for linux/amd64 and folds its target stage. */
function fold(src: string, options: PlanOptions = {}, base?: Parameters<typeof foldPlan>[1]) {
  const plan = planBuild(src, { targetPlatform: AMD64, buildPlatform: AMD64, ...options });
  return foldPlan(plan, base).get(plan.target)!;
}
const history = (src: string, options?: PlanOptions) =>
  fold(src, options).history.map((h) => (h.empty_layer ? h.created_by : `${h.created_by} (layer)`));

describe("foldImageConfig: history created_by as BuildKit writes it", () => {
  const cases: [string, string, string[]][] = [
    [
      "RUN shell form",
      "FROM scratch\nRUN apt-get update && apt-get install -y x\n",
      ["RUN /bin/sh -c apt-get update && apt-get install -y x # buildkit (layer)"],
    ],
    ["RUN exec form", 'FROM scratch\nRUN ["echo", "a b"]\n', ["RUN echo a b # buildkit (layer)"]],
    [
      "RUN with build args in scope",
      "FROM scratch\nARG A=1 B\nENV A=2\nRUN echo\n",
      ["ARG A=1 B", "ENV A=2", "RUN |2 A=2 B= /bin/sh -c echo # buildkit (layer)"],
    ],
    [
      "RUN under SHELL",
      'FROM scratch\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN echo\n',
      ["SHELL [/bin/bash -o pipefail -c]", "RUN /bin/bash -o pipefail -c echo # buildkit (layer)"],
    ],
    [
      "RUN one heredoc",
      "FROM scratch\nRUN <<EOF\necho hi\nEOF\n",
      ["RUN /bin/sh -c echo hi\n # buildkit (layer)"],
    ],
    [
      "RUN <<- heredoc chomps tabs",
      "FROM scratch\nRUN <<-EOF\n\techo hi\n\tEOF\n",
      ["RUN /bin/sh -c echo hi\n # buildkit (layer)"],
    ],
    [
      "RUN heredoc with a shebang",
      "FROM scratch\nRUN <<EOF\n#!/bin/bash\necho\nEOF\n",
      ["RUN /bin/sh -c /dev/pipes/EOF # buildkit (layer)"],
    ],
    [
      "RUN heredoc fed to a command",
      "FROM scratch\nRUN python3 <<EOF\nprint(1)\nEOF\n",
      ["RUN /bin/sh -c python3 <<EOF\nprint(1)\nEOF # buildkit (layer)"],
    ],
    ["ENV both syntaxes", 'FROM scratch\nENV X=y Z="a b"\nENV W v w\n', ["ENV X=y Z=a b", "ENV W=v w"]],
    ["LABEL multi", 'FROM scratch\nLABEL k=v "a b"=c\n', ["LABEL k=v a b=c"]],
    ["ARG with a build arg and a global", "ARG G=g\nFROM scratch\nARG G\nARG X=y\n", ["ARG G=g", "ARG X=z"]],
    [
      "COPY with flags and heredoc",
      "FROM scratch\nCOPY --chown=1:1 --chmod=644 a b /dst/\nCOPY <<EOF /f\nx\nEOF\n",
      ["COPY --chown=1:1 --chmod=644 a b /dst/ # buildkit (layer)", "COPY <<EOF /f # buildkit (layer)"],
    ],
    [
      "COPY --from is not in history",
      "FROM scratch AS a\nFROM scratch\nCOPY --from=a --link /x /y\n",
      ["COPY /x /y # buildkit (layer)"],
    ],
    [
      "ADD",
      "FROM scratch\nADD --chmod=755 https://x/y.sh /\n",
      ["ADD --chmod=755 https://x/y.sh / # buildkit (layer)"],
    ],
    [
      "WORKDIR relative to the previous one",
      "FROM scratch\nWORKDIR /app\nWORKDIR src/../lib/\nWORKDIR /\n",
      ["WORKDIR /app (layer)", "WORKDIR /app/lib (layer)", "WORKDIR /"],
    ],
    [
      "an absolute WORKDIR stands as written, a relative one after it is cleaned (NormalizeWorkdir)",
      "FROM scratch\nWORKDIR /app/\nWORKDIR /usr/local/bin/../share\nWORKDIR x/\n",
      [
        "WORKDIR /app/ (layer)",
        "WORKDIR /usr/local/bin/../share (layer)",
        "WORKDIR /usr/local/share/x (layer)",
      ],
    ],
    [
      "EXPOSE forms",
      "FROM scratch\nARG P=53\nEXPOSE 80 443/tcp ${P}/udp 8000-8002\n",
      ["ARG P=53", "EXPOSE [53/udp 443/tcp 80/tcp 8000/tcp 8001/tcp 8002/tcp]"],
    ],
    [
      "CMD and ENTRYPOINT",
      'FROM scratch\nCMD ["nginx", "-g", "daemon off;"]\nENTRYPOINT run "x"\n',
      ['CMD ["nginx" "-g" "daemon off;"]', 'ENTRYPOINT ["/bin/sh" "-c" "run \\"x\\""]'],
    ],
    [
      "VOLUME, USER, STOPSIGNAL, MAINTAINER",
      'FROM scratch\nVOLUME ["/a", "/b"]\nVOLUME /c\nUSER app:app\nSTOPSIGNAL SIGQUIT\nMAINTAINER me <me@x>\n',
      ["VOLUME [/a /b]", "VOLUME [/c]", "USER app:app", "STOPSIGNAL SIGQUIT", "MAINTAINER me <me@x>"],
    ],
    [
      "HEALTHCHECK",
      "FROM scratch\nHEALTHCHECK --interval=5m --timeout=3s --retries=3 CMD curl -f http://localhost/ || exit 1\n",
      [
        "HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/ || exit 1] Interval:5m0s Timeout:3s StartPeriod:0s StartInterval:0s Retries:3}",
      ],
    ],
    [
      "HEALTHCHECK NONE",
      "FROM scratch\nHEALTHCHECK NONE\n",
      ["HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}"],
    ],
    ["ONBUILD has no history", "FROM scratch\nONBUILD RUN x\n", []],
  ];
  it.each(cases)("%s", (_name, src, expected) => {
    expect(history(src, { buildArgs: { X: "z" } })).toEqual(expected);
  });

  it("marks every entry with BuildKit's comment", () => {
    expect(fold("FROM scratch\nENV A=1\n").history).toEqual([
      { created_by: "ENV A=1", comment: "buildkit.dockerfile.v0", empty_layer: true },
    ]);
  });
});

describe("foldImageConfig: config fields", () => {
  it("starts scratch from BuildKit's empty image (PATH, WorkingDir /)", () => {
    expect(fold("FROM scratch\n").config).toEqual({ Env: [PATH], WorkingDir: "/" });
  });

  it("replaces Env entries in place and appends new ones; ARG values stay out", () => {
    const c = fold("FROM scratch\nARG A=1\nENV B=2 PATH=/x\nENV B=3 C=$A\n").config;
    expect(c.Env).toEqual(["PATH=/x", "B=3", "C=1"]);
  });

  it("keeps the base image's fields and adds to Labels, ExposedPorts, Volumes", () => {
    const base = {
      config: {
        Env: ["A=1"],
        Labels: { a: "1" },
        ExposedPorts: { "80/tcp": {} },
        Volumes: { "/v": {} },
        Cmd: ["sh"],
        User: "u",
        OnBuild: ["RUN base-trigger"],
      },
      author: "base",
      history: [{ created_by: "base layer" }],
    };
    const r = fold(
      "FROM img\nLABEL b=2 a=3\nEXPOSE 443 80\nVOLUME /w\nONBUILD RUN mine\n",
      { imageConfig: () => ({ onBuild: ["RUN base-trigger"] }) },
      () => base,
    );
    expect(r.config).toEqual({
      Env: ["A=1", PATH], // BuildKit adds a default PATH to a base image without one
      Labels: { a: "3", b: "2" },
      ExposedPorts: { "80/tcp": {}, "443/tcp": {} },
      Volumes: { "/v": {}, "/w": {} },
      Cmd: ["sh"],
      User: "u",
      OnBuild: ["RUN mine"],
    });
    expect(r.author).toBe("base");
    expect(r.history.map((h) => h.created_by)).toEqual([
      "base layer",
      "RUN /bin/sh -c base-trigger # buildkit",
      "LABEL b=2 a=3",
      "EXPOSE [443/tcp 80/tcp]",
      "VOLUME [/w]",
    ]);
  });

  it("keeps a base image's PATH", () => {
    const base = () => ({ config: { Env: ["PATH=/opt/bin", "X=1"] } });
    expect(fold("FROM img\nENV Y=2\n", {}, base).config.Env).toEqual(["PATH=/opt/bin", "X=1", "Y=2"]);
  });

  it("resets the base's Cmd when ENTRYPOINT is set without CMD in the stage", () => {
    const base = () => ({ config: { Cmd: ["sh"] } });
    expect(fold('FROM img\nENTRYPOINT ["a"]\n', {}, base).config).toMatchObject({
      Entrypoint: ["a"],
      Cmd: null,
    });
    expect(fold('FROM img\nCMD ["b"]\nENTRYPOINT ["a"]\n', {}, base).config).toMatchObject({
      Entrypoint: ["a"],
      Cmd: ["b"],
      ArgsEscaped: true,
    });
  });

  it("runs later shell forms under SHELL", () => {
    const c = fold('FROM scratch\nSHELL ["pwsh", "-c"]\nCMD echo 1\nENTRYPOINT echo 2\n').config;
    expect(c.Shell).toEqual(["pwsh", "-c"]);
    expect(c.Cmd).toEqual(["pwsh", "-c", "echo 1"]);
    expect(c.Entrypoint).toEqual(["pwsh", "-c", "echo 2"]);
  });

  it("stores Healthcheck durations in nanoseconds and omits zero values", () => {
    const c = fold('FROM scratch\nHEALTHCHECK --interval=30s --start-interval=500ms CMD ["true"]\n').config;
    expect(c.Healthcheck).toEqual({ Test: ["CMD", "true"], Interval: 30e9, StartInterval: 5e8 });
  });

  it("folds a stage on a stage from that stage's result, with expanded values", () => {
    const r = fold(
      "FROM scratch AS base\nENV V=1\nWORKDIR /app\nUSER me\nFROM base\nARG T=x\nWORKDIR $T\nLABEL v=$V\n",
    );
    expect(r.config).toMatchObject({
      Env: [PATH, "V=1"],
      WorkingDir: "/app/x",
      User: "me",
      Labels: { v: "1" },
    });
    expect(r.history.map((h) => h.created_by)).toEqual([
      "ENV V=1",
      "WORKDIR /app",
      "USER me",
      "ARG T=x",
      "WORKDIR /app/x",
      "LABEL v=1",
    ]);
  });

  it("uses cmd /S /C on Windows and no default PATH", () => {
    const plan = planBuild("FROM scratch\nCMD dir\n", {
      targetPlatform: { os: "windows", architecture: "amd64" },
      buildPlatform: AMD64,
    });
    expect(foldPlan(plan).get(0)!.config).toEqual({
      WorkingDir: "/",
      Cmd: ["cmd", "/S", "/C", "dir"],
      ArgsEscaped: true,
    });
  });
});

describe("formatGoDuration (HEALTHCHECK history)", () => {
  it.each([
    [0, "0s"],
    [1, "1ns"],
    [1500, "1.5µs"],
    [1e6, "1ms"],
    [1.5e6, "1.5ms"],
    [3e9, "3s"],
    [1.5e9, "1.5s"],
    [90e9, "1m30s"],
    [300e9, "5m0s"],
    [3600e9, "1h0m0s"],
    [3723.5e9, "1h2m3.5s"],
  ])("%d ns is %s", (ns, s) => {
    expect(formatGoDuration(ns)).toBe(s);
  });
});
