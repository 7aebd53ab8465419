import { describe, expect, it } from "vitest";
import { listConformance, readConformanceBytes } from "../../testing/conformance.js";
import { failure } from "../../testing/failure.js";
import { parseDockerfile } from "../dockerfile.js";
import type { Instruction } from "./types.js";

/** BRACED is `$` + `{STAGE}`, spelled so the linter does not take it for a template placeholder. */
const BRACED = "$" + "{STAGE}";

/** one parses a Dockerfile body after `FROM scratch` and returns its last instruction. */
function one(line: string): Instruction {
  const df = parseDockerfile(`FROM scratch\n${line}\n`);
  return df.instructions[df.instructions.length - 1]!;
}

describe("typed instructions", () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ["FROM", "FROM alpine", { kind: "from", image: "alpine" }],
    [
      "FROM AS",
      "FROM --platform=$BUILDPLATFORM golang:1.22 As Builder",
      {
        kind: "from",
        image: "golang:1.22",
        stageName: "builder",
        stageNameRaw: "Builder",
        asKeyword: "As",
        platform: "$BUILDPLATFORM",
      },
    ],
    [
      "RUN shell",
      "RUN echo hi  there",
      { kind: "run", command: { form: "shell", args: ["echo hi  there"], prependShell: true } },
    ],
    [
      "RUN exec",
      'RUN ["echo", "hi"]',
      { kind: "run", command: { form: "exec", args: ["echo", "hi"], prependShell: false } },
    ],
    ["RUN network", "RUN --network=none true", { kind: "run", network: "none", security: "sandbox" }],
    [
      "RUN security",
      "RUN --security=insecure true",
      { kind: "run", network: "default", security: "insecure" },
    ],
    [
      "CMD shell",
      "CMD nginx -g 'daemon off;'",
      { kind: "cmd", command: { form: "shell", args: ["nginx -g 'daemon off;'"], prependShell: true } },
    ],
    ["CMD empty", "CMD []", { kind: "cmd", command: { form: "exec", args: [], prependShell: false } }],
    [
      "ENTRYPOINT",
      'ENTRYPOINT ["/init", "--"]',
      { kind: "entrypoint", command: { form: "exec", args: ["/init", "--"], prependShell: false } },
    ],
    ["SHELL", 'SHELL ["powershell", "-Command"]', { kind: "shell", shell: ["powershell", "-Command"] }],
    [
      "LABEL",
      'LABEL a=b "c d"="e f" g=',
      {
        kind: "label",
        pairs: [
          { key: "a", value: "b", legacy: false },
          { key: '"c d"', value: '"e f"', legacy: false },
          { key: "g", value: "", legacy: false },
        ],
      },
    ],
    [
      "LABEL legacy",
      "LABEL maintainer Jane Doe",
      { kind: "label", pairs: [{ key: "maintainer", value: "Jane Doe", legacy: true }] },
    ],
    [
      "ENV new",
      'ENV PATH=/x:$PATH HOME="/home/a b"',
      {
        kind: "env",
        pairs: [
          { key: "PATH", value: "/x:$PATH", legacy: false },
          { key: "HOME", value: '"/home/a b"', legacy: false },
        ],
      },
    ],
    [
      "ENV legacy",
      "ENV GOPATH /go  x",
      { kind: "env", pairs: [{ key: "GOPATH", value: "/go  x", legacy: true }] },
    ],
    ["MAINTAINER", "MAINTAINER Jane <j@x.org>", { kind: "maintainer", maintainer: "Jane <j@x.org>" }],
    ["EXPOSE", "EXPOSE 80 53/udp $PORT", { kind: "expose", ports: ["$PORT", "53/udp", "80"] }],
    [
      "COPY",
      "COPY --from=build --chown=1:2 --chmod=0755 --link --parents --exclude=*.md --exclude=.git a b /dst/",
      {
        kind: "copy",
        from: "build",
        chown: "1:2",
        chmod: "0755",
        link: true,
        parents: true,
        excludes: ["*.md", ".git"],
        sources: ["a", "b"],
        dest: "/dst/",
        json: false,
      },
    ],
    [
      "COPY json",
      'COPY ["a b", "/c d/"]',
      { kind: "copy", sources: ["a b"], dest: "/c d/", json: true, link: false, parents: false },
    ],
    ["COPY chmod symbolic", "COPY --chmod=u+x,g-w a /b", { kind: "copy", chmod: "u+x,g-w" }],
    [
      "ADD",
      `ADD --keep-git-dir=true --checksum=sha256:${"a".repeat(64)} --unpack=false --link=false https://x/y.tgz /z`,
      {
        kind: "add",
        keepGitDir: true,
        checksum: `sha256:${"a".repeat(64)}`,
        unpack: false,
        link: false,
        sources: ["https://x/y.tgz"],
        dest: "/z",
      },
    ],
    [
      "ADD chown exclude",
      "ADD --chown=app --chmod=644 --exclude=a --exclude=b src/ /dst",
      {
        kind: "add",
        chown: "app",
        chmod: "644",
        excludes: ["a", "b"],
        keepGitDir: false,
        sources: ["src/"],
        dest: "/dst",
      },
    ],
    [
      "ADD git",
      "ADD --keep-git-dir git@github.com:a/b.git /src",
      { kind: "add", keepGitDir: true, sources: ["git@github.com:a/b.git"] },
    ],
    [
      "COPY unexpanded",
      "COPY --from=" + BRACED + " --chmod=$MODE $SRC /x",
      { kind: "copy", from: BRACED, chmod: "$MODE", sources: ["$SRC"] },
    ],
    ["VOLUME words", "VOLUME /a /b", { kind: "volume", paths: ["/a", "/b"] }],
    ["VOLUME json", 'VOLUME ["/a"]', { kind: "volume", paths: ["/a"] }],
    ["USER", "USER app:app", { kind: "user", user: "app:app" }],
    ["WORKDIR", "WORKDIR /srv/app dir", { kind: "workdir", path: "/srv/app dir" }],
    [
      "ARG",
      'ARG A B=2 C="x y"',
      { kind: "arg", args: [{ name: "A" }, { name: "B", default: "2" }, { name: "C", default: '"x y"' }] },
    ],
    ["STOPSIGNAL", "STOPSIGNAL SIGQUIT", { kind: "stopsignal", signal: "SIGQUIT" }],
    [
      "HEALTHCHECK NONE",
      "HEALTHCHECK NONE",
      {
        kind: "healthcheck",
        health: { test: ["NONE"], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 },
      },
    ],
    [
      "HEALTHCHECK CMD",
      "HEALTHCHECK --interval=1m30s --timeout=5s --start-period=1.5s --start-interval=10ms --retries=3 CMD curl -f http://localhost/",
      {
        kind: "healthcheck",
        health: {
          test: ["CMD-SHELL", "curl -f http://localhost/"],
          interval: 90e9,
          timeout: 5e9,
          startPeriod: 1.5e9,
          startInterval: 1e7,
          retries: 3,
        },
      },
    ],
    [
      "HEALTHCHECK exec",
      'healthcheck cmd ["redis-cli", "ping"]',
      {
        kind: "healthcheck",
        health: {
          test: ["CMD", "redis-cli", "ping"],
          interval: 0,
          timeout: 0,
          startPeriod: 0,
          startInterval: 0,
          retries: 0,
        },
      },
    ],
    [
      "ONBUILD",
      "ONBUILD RUN make",
      {
        kind: "onbuild",
        expression: "RUN make",
        trigger: expect.objectContaining({
          kind: "run",
          command: { form: "shell", args: ["make"], prependShell: true },
        }),
      },
    ],
    [
      "ONBUILD COPY",
      "onbuild copy . /app",
      { kind: "onbuild", trigger: expect.objectContaining({ kind: "copy", sources: ["."], dest: "/app" }) },
    ],
    ["lower-case keyword", "run true", { kind: "run", keyword: "run" }],
    [
      "HEALTHCHECK NONE with flags",
      "HEALTHCHECK --interval=5s NONE",
      { kind: "healthcheck", health: expect.objectContaining({ test: ["NONE"] }) },
    ],
    [
      "HEALTHCHECK NONE ignores even unknown flags (BuildKit never parses them)",
      "HEALTHCHECK --bogus=1 NONE",
      { kind: "healthcheck", health: expect.objectContaining({ test: ["NONE"], interval: 0 }) },
    ],
    [
      "ONBUILD ARG",
      "ONBUILD ARG NODE_ENV",
      { kind: "onbuild", trigger: expect.objectContaining({ kind: "arg", args: [{ name: "NODE_ENV" }] }) },
    ],
  ];
  it.each(cases)("%s", (_name, line, want) => {
    expect(one(line)).toMatchObject(want);
  });

  it("keeps location and original text", () => {
    const df = parseDockerfile("# syntax=docker/dockerfile:1\nFROM a\nRUN a \\\n  b\n", {
      file: "x/Dockerfile",
    });
    const run = df.instructions[1]!;
    expect(run.location).toEqual({ file: "x/Dockerfile", startLine: 3, endLine: 4 });
    expect(run.original).toBe("RUN a   b");
    expect(df.directives).toEqual([{ name: "syntax", value: "docker/dockerfile:1", line: 1 }]);
  });

  it("attaches heredocs to an ONBUILD trigger", () => {
    const df = parseDockerfile("FROM a\nONBUILD RUN <<EOF\nmake\nEOF\n");
    const ob = df.instructions[1]!;
    expect(
      ob.kind === "onbuild" && ob.trigger.kind === "run" && ob.trigger.heredocs.map((h) => h.content),
    ).toEqual(["make\n"]);
    expect(ob.kind === "onbuild" && ob.expression).toBe("RUN <<EOF\nmake\nEOF");
  });

  it("looks COPY heredoc bodies up by name", () => {
    const df = parseDockerfile("FROM a\nCOPY <<B <<A /d/\nbee\nB\nay\nA\n");
    const c = df.instructions[1]!;
    expect(c.kind === "copy" && c.contents.map((x) => [x.path, x.data])).toEqual([
      ["B", "bee\n"],
      ["A", "ay\n"],
    ]);
  });

  it("passes parser warnings through", () => {
    expect(parseDockerfile("FROM a\nRUN a \\\n\n b\n").warnings.map((w) => w.rule)).toEqual([
      "NoEmptyContinuation",
    ]);
  });

  it("attaches heredocs to RUN and COPY", () => {
    const df = parseDockerfile("FROM a\nRUN <<EOF\necho $X\nEOF\nCOPY <<-'A' <<B /d/\n\tone\n\tA\ntwo\nB\n");
    const run = df.instructions[1]!;
    expect(run.kind === "run" && run.heredocs).toEqual([
      { name: "EOF", fileDescriptor: 0, expand: true, chomp: false, content: "echo $X\n" },
    ]);
    const copy = df.instructions[2]!;
    expect(copy.kind === "copy" && copy.contents).toEqual([
      { path: "A", data: "one\n", expand: false },
      { path: "B", data: "two\n", expand: true },
    ]);
    expect(copy.kind === "copy" && copy.sources).toEqual([]);
    expect(copy.location).toEqual({ file: "Dockerfile", startLine: 5, endLine: 9 });
  });
});

describe("RUN --mount", () => {
  const mounts: [string, Record<string, unknown>][] = [
    ["type=bind,source=/a,target=/b", { type: "bind", source: "/a", target: "/b", readOnly: true }],
    ["from=binaries", { type: "bind", from: "binaries", readOnly: true }],
    ["type=bind,src=x,dst=/y,rw", { type: "bind", source: "x", target: "/y", readOnly: false }],
    ["type=bind,target=/y,readwrite=false", { readOnly: true }],
    [
      "type=cache,target=/root/.cache,id=go,sharing=locked,mode=0700,uid=1000,gid=1000",
      { type: "cache", id: "go", sharing: "locked", mode: 0o700, uid: 1000, gid: 1000, readOnly: false },
    ],
    [
      "type=cache,target=/c,from=stage,source=/s,ro",
      { type: "cache", from: "stage", source: "/s", sharing: "shared", readOnly: true },
    ],
    ["type=tmpfs,target=/t,size=64m", { type: "tmpfs", size: 64 * 1024 * 1024, readOnly: false }],
    [
      "type=secret,id=aws,target=/root/.aws/credentials,required",
      { type: "secret", id: "aws", required: true, readOnly: true },
    ],
    ["type=secret,id=tok,env=TOKEN,required=false", { type: "secret", env: "TOKEN", required: false }],
    ["type=ssh", { type: "ssh", required: false }],
    ["type=ssh,id=gh,required=true,mode=0600", { type: "ssh", id: "gh", required: true, mode: 0o600 }],
    ["type=cache,target=$DIR,uid=$UID", { needsExpansion: true, target: "$DIR" }],
    ["TYPE=CACHE,Target=/x", { type: "cache", target: "/x" }],
    ["target=/s,required,type=ssh", { type: "ssh", required: true, target: "/s" }],
  ];
  it.each(mounts)("%s", (value, want) => {
    const run = one(`RUN --mount=${value} true`);
    expect(run.kind).toBe("run");
    if (run.kind === "run") expect(run.mounts[0]).toMatchObject({ raw: value, ...want });
  });

  it("accepts CSV quoting when the quotes are escaped from the flag splitter", () => {
    const run = one('RUN --mount=type=bind,\\"target=/a,b\\" true');
    expect(run.kind === "run" && run.mounts[0]).toMatchObject({
      raw: 'type=bind,"target=/a,b"',
      target: "/a,b",
    });
  });

  it("keeps several mounts in order", () => {
    const run = one("RUN --mount=type=cache,target=/a --mount=type=tmpfs,target=/b true");
    expect(run.kind === "run" && run.mounts.map((m) => m.type)).toEqual(["cache", "tmpfs"]);
  });

  const bad: [string, string][] = [
    ["type=nfs,target=/a", 'unsupported mount type "nfs"'],
    ["type=bind,target=/a,size=1m", "unexpected key 'size' for mount type 'bind'"],
    ["type=bind,target=/a,mode=0700", 'mode not allowed for "bind" type mounts'],
    ["type=tmpfs,target=/a,uid=1", 'uid not allowed for "tmpfs" type mounts'],
    ["type=cache,target=/a,sharing=sometimes", 'unsupported sharing value "sometimes"'],
    ["type=bind,target=/a,sharing=locked", "invalid cache sharing set for bind mount"],
    ["type=secret,id=a,sharing=locked", "secret mount should not define sharing"],
    ["type=secret,id=a,from=b", "secret mount should not have a from"],
    ["type=bind,from=$STAGE", "'from' doesn't support variable expansion, define alias stage instead"],
    ["type=bind,target=/a,sorce=x", "unexpected key 'sorce' in 'sorce=x' (did you mean source?)"],
    ["type=cache,target=/a,mode=999", "invalid value 999 for mode"],
    ["type=cache,target=/a,uid=-1", "invalid value -1 for uid"],
    ["type=secret", "invalid secret mount. one of source, target required"],
    ["type=secret,id=a,src=b", "both source and id can't be set"],
    ["type=bind,target=/a,env=X", "unexpected key 'env' for mount type 'bind'"],
    ["type=bind,target=/a,required", "unexpected key 'required' for mount type 'bind'"],
    ["type=bind,target=/a,ro=maybe", "invalid value for ro: maybe"],
    ["type=bind,target=/a,bogus=1", "unexpected key 'bogus' in 'bogus=1'"],
    ["type=bind,target", "invalid field 'target' must be a key=value pair"],
    ["type=tmpfs,target=/a,size=lots", "invalid value for size: lots"],
    ['type=bind,target=\\"/a', 'bare " in non-quoted-field'],
  ];
  it.each(bad)("rejects %s", (value, message) => {
    const err = failure(`FROM a\nRUN --mount=${value} true\n`);
    expect(err.code).toBe("INVALID_FLAG_VALUE");
    expect(err.detail).toContain(message);
    expect(err.line).toBe(2);
    expect(err.column).toBeGreaterThan(4);
  });
});

describe("real-world Dockerfiles give typed instructions", () => {
  it.each(listConformance("real-world", ".Dockerfile"))("%s", (name) => {
    const df = parseDockerfile(readConformanceBytes("real-world", name), { file: name });
    expect(df.instructions.length).toBe(df.ast.children.length);
    expect(df.instructions[0]?.kind === "from" || df.instructions[0]?.kind === "arg").toBe(true);
  });
});
