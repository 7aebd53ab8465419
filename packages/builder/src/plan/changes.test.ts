import { describe, expect, it } from "vitest";
import { BuildError } from "../errors.js";
import { foldChanges } from "./changes.js";
import { foldImageConfig } from "./config.js";
import { planBuild } from "./plan.js";

/** built is the config a build of `FROM scratch` + `lines` folds to. */
function built(lines: string[]) {
  const plan = planBuild(`FROM scratch\n${lines.join("\n")}\n`);
  const stage = plan.stages[plan.target]!;
  return foldImageConfig({}, stage.steps, "linux").config ?? {};
}

describe("foldChanges (import --change) folds as a build does", () => {
  const lines = [
    'ENV A="x y" B=$A',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a template
    "ENV C=${A:-no}-$B",
    "WORKDIR /srv",
    "WORKDIR $C",
    "EXPOSE 80 53/udp",
    'LABEL "k"="v w"',
    "USER app",
    'ENTRYPOINT ["/e"]',
    "CMD run",
    "HEALTHCHECK --interval=5s CMD true",
    "STOPSIGNAL SIGINT",
    "ONBUILD RUN x",
    "VOLUME /data",
  ];

  it("gives the build's config, without the default PATH and ArgsEscaped a build adds", () => {
    const { Env, ArgsEscaped: _, ...rest } = built(lines);
    const changed = foldChanges({}, lines);
    expect(changed).toEqual({ ...rest, Env: Env?.filter((e) => !e.startsWith("PATH=")) });
    expect(changed.Env).toEqual(["A=x y", "B=", "C=x y-"]);
    expect(changed.WorkingDir).toBe("/srv/x y-");
  });

  it("folds onto an existing config (ENV replaces in place, ENTRYPOINT resets CMD)", () => {
    const c = foldChanges({ Env: ["PATH=/bin", "A=1"], Cmd: ["old"] }, ["ENV A=2 D=$A", "ENTRYPOINT x"]);
    expect(c.Env).toEqual(["PATH=/bin", "A=2", "D=1"]);
    expect(c.Entrypoint).toEqual(["/bin/sh", "-c", "x"]);
    expect(c.Cmd).toBeNull();
  });

  it.each([
    ["RUN echo hi", "RUN is not a valid change command"],
    ["COPY a b", "COPY is not a valid change command"],
    ["FROBNICATE x", "invalid --change"],
  ])("refuses %j", (line, message) => {
    expect(() => foldChanges({}, [line])).toThrow(message);
    expect(() => foldChanges({}, [line])).toThrow(BuildError);
  });
});
