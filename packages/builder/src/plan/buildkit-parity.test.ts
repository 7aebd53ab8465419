// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile sources use `${}` syntax
/**
 * Parity with BuildKit's planning and image-config expectations that need no execution:
 * frontend/dockerfile/dockerfile2llb/convert_test.go and the history/config assertions of
 * frontend/dockerfile/dockerfile_test.go and dockerfile_history_test.go. Each case names its upstream test.
 */
import { describe, expect, it } from "vitest";
import { isDockerfileError } from "../errors.js";
import { type BaseImage, foldPlan } from "./config.js";
import { planBuild } from "./plan.js";
import type { PlanOptions } from "./types.js";

const AMD64 = { os: "linux", architecture: "amd64" };
const C = "dockerfile2llb/convert_test.go#";
const H = "dockerfile_history_test.go#";
const D = "dockerfile_test.go#";

function plan(src: string, options: PlanOptions = {}) {
  return planBuild(src, { targetPlatform: AMD64, buildPlatform: AMD64, ...options });
}
function errorOf(src: string, options: PlanOptions = {}): string | undefined {
  try {
    plan(src, options);
    return undefined;
  } catch (err) {
    if (!isDockerfileError(err)) throw err;
    return err.detail;
  }
}
/** folded is the target stage's image, every external base image being `base`. */
function folded(src: string, base: BaseImage = {}, options: PlanOptions = {}) {
  const p = plan(src, options);
  return foldPlan(p, () => base).get(p.target)!;
}

describe(`${C}TestDockerfileParsing`, () => {
  const multi = "FROM scratch AS foo\nENV FOO bar\nFROM foo\nCOPY --from=foo f1 /\nCOPY --from=0 f2 /\n\t";
  it.each([
    ["FROM scratch\nENV FOO bar\nCOPY f1 f2 /sub/\nRUN ls -l\n", {}],
    [multi, {}],
    [multi, { target: "Foo" }],
    ["FROM scratch\n\tADD http://github.com/moby/buildkit/blob/master/README.md /\n\t\t", {}],
  ] as const)("plans %j %j", (src, options) => {
    expect(errorOf(src, options)).toBeUndefined();
  });
  it.each([
    [multi, { target: "nosuch" }, 'target stage "nosuch" could not be found'],
    [
      "FROM scratch\n\tCOPY http://github.com/moby/buildkit/blob/master/README.md /\n\t\t",
      {},
      "source can't be a URL for COPY",
    ],
    ['FROM "" AS foo', {}, 'base name ("") should not be blank'],
    ["FROM ${BLANK} AS foo", {}, "base name (${BLANK}) should not be blank"],
  ] as const)("rejects %j %j", (src, options, error) => {
    expect(errorOf(src, options)).toBe(error);
  });
  it("COPY of a git repository is refused like a URL (dispatchCopy)", () => {
    expect(errorOf("FROM scratch\nCOPY https://github.com/moby/buildkit.git#v0.1 /src\n")).toBe(
      "source can't be a git ref for COPY",
    );
    expect(errorOf("FROM scratch\nADD https://github.com/moby/buildkit.git#v0.1 /src\n")).toBeUndefined();
  });
});

describe(`${C}TestDockerfileCircularDependencies`, () => {
  it.each([
    ["FROM busybox AS stage0\nCOPY --from=stage0 f1 /sub/\n"],
    [
      "FROM busybox AS stage0\nCOPY --from=stage2 f1 /sub/\nFROM busybox AS stage1\nCOPY --from=stage0 f2 /sub/\nFROM busybox AS stage2\nCOPY --from=stage1 f2 /sub/\n",
    ],
  ])("%j", (src) => {
    expect(errorOf(src)).toBe("circular dependency detected on stage: stage0");
  });
});

describe(`${C}TestToEnvList (toEnvMap): what word expansion sees`, () => {
  // A later duplicate in the image env wins; an ARG without a value is not set. Where an ARG names a key
  // the base image's env already has, upstream's toEnvMap (now a helper of the test file only) keeps the
  // env value, but the product's dispatchArg adds the ARG to the state env (`d.state.AddEnv`), so the ARG
  // wins for the instructions after it; ours follows dispatchArg. (An ENV after the ARG wins again.)
  const cases: [name: string, env: string[], args: string, expected: string][] = [
    ["no duplicate", ["key1=val1"], "ARG key2=val2", "/val1/val2"],
    ["arg without a value", ["key1=val1"], "ARG key2", "/val1/"],
    ["arg after an env key (dispatchArg)", ["key1=val1"], "ARG key1=val2", "/val2/"],
    ["arg after an empty env key (dispatchArg)", ["key1="], "ARG key1=val2", "/val2/"],
    ["bare env key is empty", ["key1"], "ARG key2", "//"],
    ["env with duplicate keys", ["key1=val1", "key1=val1_2"], "ARG key2=val2", "/val1_2/val2"],
  ];
  it.each(cases)("%s", (_n, env, arg, expected) => {
    const p = plan(`FROM img\n${arg}\nWORKDIR /$key1/\${key2}\n`, { imageConfig: () => ({ env }) });
    const wd = p.stages[0]!.steps.at(-1)!.expanded;
    expect(wd.kind === "workdir" && wd.path).toBe(expected);
  });
});

describe(`${C}TestAddEnv: ENV replaces a key in place, else appends`, () => {
  const cases: [name: string, env: string[], set: string, expected: string[]][] = [
    ["existing key", ["key1=val1", "key2=val2"], "key1=value1", ["key1=value1", "key2=val2"]],
    ["new key", ["key1=val1", "key2=val2"], "key3=val3", ["key1=val1", "key2=val2", "key3=val3"]],
    [
      "duplicate keys: the first is replaced",
      ["key1=val1", "key1=val2"],
      "key1=value1",
      ["key1=value1", "key1=val2"],
    ],
    ["bare key", ["key1=val1", "key2=val2", "key3"], "key3=val3", ["key1=val1", "key2=val2", "key3=val3"]],
  ];
  it.each(cases)("%s", (_n, env, set, expected) => {
    const p = "PATH=/bin";
    expect(folded(`FROM img\nENV ${set}\n`, { config: { Env: [...env, p] } }).config.Env).toEqual([
      ...expected.slice(0, env.length),
      p,
      ...expected.slice(env.length),
    ]);
  });
});

describe(`${H}testExportedHistory: history is scoped to the stage`, () => {
  it("records each instruction of the final stage after the base image's history", () => {
    const src =
      'FROM busybox AS base\nENV foo=bar\nCOPY foo /foo2\nFROM busybox\nLABEL lbl=val\nCOPY --from=base foo2 foo3\nWORKDIR /\nRUN echo bar > foo4\nRUN ["ls"]\nEXPOSE 2375 5000 1234/udp\n';
    const busybox: BaseImage = {
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
      history: [
        { created_by: "BusyBox 1.36.1 (glibc), Debian 12" },
        { created_by: 'CMD ["sh"]', empty_layer: true },
      ],
    };
    const h = folded(src, busybox).history;
    expect(h).toHaveLength(8);
    const own = h.slice(2).map((e) => [e.created_by, e.empty_layer === true]);
    expect(own).toEqual([
      ["LABEL lbl=val", true],
      ["COPY foo2 foo3 # buildkit", false],
      ["WORKDIR /", true],
      ["RUN /bin/sh -c echo bar > foo4 # buildkit", false],
      ["RUN ls # buildkit", false],
      ["EXPOSE [1234/udp 2375/tcp 5000/tcp]", true],
    ]);
  });
});

describe(`${H}testExportedHistoryFlattenArgs (moby/buildkit#5505)`, () => {
  it("a redeclared ARG appears once in RUN's history, with its last value", () => {
    const h = folded("FROM busybox\nARG foo=bar\nARG bar=123\nARG foo=bar2\nRUN ls /etc/\n").history.map(
      (e) => e.created_by,
    );
    expect(h).toEqual([
      "ARG foo=bar",
      "ARG bar=123",
      "ARG foo=bar2",
      "RUN |2 foo=bar2 bar=123 /bin/sh -c ls /etc/ # buildkit",
    ]);
  });
});

describe(`${D}testEnvEmptyFormatting`, () => {
  it("keeps % verbs in ENV values literally", () => {
    expect(folded("FROM busybox AS build\nENV myenv foo%sbar\n").config.Env).toContain("myenv=foo%sbar");
  });
});

const CF = "dockerfile_test.go (config tests)#";

describe(`${CF}testCmdShell`, () => {
  it("ENTRYPOINT under an inherited SHELL resets the base image's CMD", () => {
    const c = folded('FROM docker.io/moby/cmdoverridetest:latest\nSHELL ["ls"]\nENTRYPOINT my entrypoint\n', {
      config: { Cmd: ["test"], Env: ["PATH=/bin"] },
    }).config;
    expect(c.Cmd).toBeNull(); // Go's nil slice: `"Cmd": null` in the config JSON
    expect(c.Entrypoint).toEqual(["ls", "my entrypoint"]);
  });
});

describe(`${CF}testDefaultShellAndPath`, () => {
  it.each([
    [{ os: "windows", architecture: "amd64" }, ["cmd", "/S", "/C", "foo bar"], undefined],
    [
      AMD64,
      ["/bin/sh", "-c", "foo bar"],
      ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    ],
  ])("%j", (platform, entrypoint, env) => {
    const c = folded(
      "FROM scratch\nENTRYPOINT foo bar\nCOPY Dockerfile .\n",
      {},
      { targetPlatform: platform },
    ).config;
    expect(c.Entrypoint).toEqual(entrypoint);
    expect(c.Env).toEqual(env);
  });
});

describe(`${CF}testInvalidJSONCommands`, () => {
  it("a broken JSON array is a shell-form command", () => {
    const run = plan('FROM alpine\nRUN ["echo", "hello"]this is invalid\n').stages[0]!.steps[0]!.expanded;
    expect(run.kind === "run" && run.command).toMatchObject({
      args: ['["echo", "hello"]this is invalid'],
      prependShell: true,
    });
    expect(folded("FROM alpine\nENTRYPOINT []random string\n").config.Entrypoint).toEqual([
      "/bin/sh",
      "-c",
      "[]random string",
    ]);
  });
});

describe(`${CF}testDockerfileInvalidInstruction`, () => {
  it("suggests the instruction meant", () => {
    const e = errorOf('FROM scratch\nFNTRYPOINT ["/bin/sh", "-c", "echo invalidinstruction"]\n');
    expect(e).toContain("unknown instruction: FNTRYPOINT");
    expect(e).toContain("did you mean ENTRYPOINT?");
  });
});

describe(`${CF}testExposeExpansion, testLabels, testUser, testTargetMistype`, () => {
  it("testExposeExpansion: an ARG holding several ports expands to several ports", () => {
    const c = folded('FROM scratch\nARG PORTS="3000 4000/udp"\nEXPOSE $PORTS\nEXPOSE 5000\n').config;
    expect(Object.keys(c.ExposedPorts ?? {}).sort()).toEqual(["3000/tcp", "4000/udp", "5000/tcp"]);
  });
  it("testLabels: LABEL foo=bar (the `label:bar` frontend attr is docker build --label, not planned here)", () => {
    expect(folded("FROM scratch\nLABEL foo=bar\n").config.Labels).toEqual({ foo: "bar" });
  });
  it("testUser: the final stage's USER is the image's user", () => {
    const src =
      "FROM busybox AS base\nUSER daemon\nRUN id -un\nFROM scratch\nCOPY --from=base /out /\nUSER nobody\n";
    expect(folded(src).config.User).toBe("nobody");
  });
  it("testTargetMistype: a mistyped --target suggests the stage", () => {
    const src = "FROM scratch AS build\nCOPY Dockerfile /out\n\nFROM scratch\nCOPY --from=build /out /\n";
    expect(errorOf(src, { target: "bulid" })).toBe(
      'target stage "bulid" could not be found (did you mean build?)',
    );
  });
  it("scratch + ENV: one empty-layer history entry, the env and PATH, a WorkingDir", () => {
    const f = folded("FROM scratch\nENV foo=bar\n");
    expect(f.history).toEqual([expect.objectContaining({ created_by: "ENV foo=bar", empty_layer: true })]);
    expect(f.config.Env).toContain("foo=bar");
    expect(f.config.Env?.some((e) => e.startsWith("PATH="))).toBe(true);
    expect(f.config.WorkingDir).not.toBe("");
  });
});

describe(`${C}TestProxyEnvFromBuildArgs*`, () => {
  it("DeterministicOrder: the lowercase spelling wins; RUN sees both spellings (executor's proxyEnvList)", () => {
    const p = plan("FROM scratch\nRUN env\n", {
      buildArgs: {
        ALL_PROXY: "all-upper",
        all_proxy: "all-lower",
        HTTP_PROXY: "http-upper",
        http_proxy: "http-lower",
        NO_PROXY: "no-proxy",
      },
    });
    expect(p.proxyEnv).toEqual({
      HTTP_PROXY: "http-lower",
      http_proxy: "http-lower",
      NO_PROXY: "no-proxy",
      no_proxy: "no-proxy",
      ALL_PROXY: "all-lower",
      all_proxy: "all-lower",
    });
  });
  it("NilWhenNoProxyArgs", () => {
    expect(plan("FROM scratch\n", { buildArgs: { FOO: "bar" } }).proxyEnv).toEqual({});
  });
});
