// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile sources use `${}` syntax
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson, digestOf, ImageStore, MediaType } from "@tsbuild/oci";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../testing.js";
import { parseBuildArgs } from "./build.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function context(files: Record<string, string>): Promise<string> {
  const dir = await tempDir("tsbuild-build-");
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const AMD64 = ["--platform", "linux/amd64"];

describe("tsbuild build --check", () => {
  it("passes a clean Dockerfile", async () => {
    const dir = await context({ Dockerfile: 'FROM scratch\nCOPY a /a\nCMD ["/a"]\n', a: "" });
    const r = await runCli(["build", "--check", ...AMD64, dir]);
    expect(r).toEqual({ code: 0, stdout: "Check complete, no warnings found.\n", stderr: "" });
  });

  it("prints warnings like docker and exits 1 (a check fails on any finding)", async () => {
    const dir = await context({ Dockerfile: "FROM scratch AS Build\nCMD echo hi\n" });
    const r = await runCli(["build", "--check", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "Check complete, 2 warnings have been found!",
        "",
        "WARNING: StageNameCasing - https://docs.docker.com/go/dockerfile/rule/stage-name-casing/",
        "Stage name 'Build' should be lowercase",
        "Dockerfile:1",
        "--------------------",
        "   1 | >>> FROM scratch AS Build",
        "   2 |     CMD echo hi",
        "   3 |     ",
        "--------------------",
        "",
        "WARNING: JSONArgsRecommended - https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
        "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
        "Dockerfile:2",
        "--------------------",
        "   1 |     FROM scratch AS Build",
        "   2 | >>> CMD echo hi",
        "   3 |     ",
        "--------------------",
        "",
      ].join("\n"),
    );
  });

  it("fails on warnings with # check=error=true", async () => {
    const dir = await context({ Dockerfile: "# check=error=true\nFROM scratch\nMAINTAINER me\n" });
    const r = await runCli(["build", "--check", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "WARNING: MaintainerDeprecated - https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/\n",
    );
    expect(r.stderr).toBe("Error: lint violation found for rules: MaintainerDeprecated\n");
  });

  it("prints a broken Dockerfile's line with a caret and exits 1", async () => {
    const dir = await context({ Dockerfile: "FROM scratch\nCOPY --frm=x a b\n" });
    const r = await runCli(["build", "--check", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const [first, second, third] = r.stderr.split("\n");
    expect(first).toMatch(/^Error: Dockerfile:2:6: /);
    expect(second).toBe("  2 | COPY --frm=x a b");
    expect(third).toBe("    |      ^");
  });

  it("reports planning errors with their position", async () => {
    const dir = await context({ Dockerfile: "FROM scratch AS a\nCOPY --from=a / /\n" });
    const r = await runCli(["build", "--check", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error: Dockerfile:2:1: circular dependency detected on stage: a\n");
  });

  it("uses -f, --target and --build-arg", async () => {
    const dir = await context({
      "build/app.Dockerfile":
        "ARG BASE\nFROM ${BASE:-scratch} AS a\nCMD x\nFROM scratch AS b\nARG V\nWORKDIR $V\n",
    });
    const r = await runCli([
      "build",
      "--check",
      "-f",
      join(dir, "build/app.Dockerfile"),
      "--target",
      "b",
      "--build-arg",
      "V=rel",
      dir,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("WARNING: WorkdirRelativePath - ");
    expect(r.stdout).toContain("\napp.Dockerfile:6\n");
    expect(r.stdout).not.toContain("JSONArgsRecommended");
  });

  it("reads the Dockerfile from standard input with -f -", async () => {
    const dir = await context({});
    const r = await runCli(["build", "--check", "-f", "-", dir], { stdin: "FROM scratch\nMAINTAINER me\n" });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "Maintainer instruction is deprecated in favor of using label\nDockerfile:2\n",
    );
  });

  it("checks once for several platforms, and builds one index of them", async () => {
    const dir = await context({ Dockerfile: "FROM scratch\n" });
    expect((await runCli(["build", "--check", "--platform", "linux/amd64,linux/arm64", dir])).code).toBe(0);
    const root = await tempDir("tsbuild-store-");
    dirs.push(root);
    const r = await runCli([
      ...["--root", root, "build", "-q", "--platform", "linux/amd64,linux/arm64", "-t", "multi:1", dir],
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const store = await ImageStore.open({ root });
    try {
      const index = await store.indexNamed("multi:1");
      expect(`${index?.digest}\n`).toBe(r.stdout);
      const bytes = await store.layout.readBlob(index!.digest);
      const platforms = JSON.parse(bytes.toString()).manifests.map(
        (m: { platform: { architecture: string } }) => m.platform.architecture,
      );
      expect(platforms).toEqual(["amd64", "arm64"]);
    } finally {
      await store.close();
    }
  });

  it("runs the experimental CopyIgnoredFile check against the context's .dockerignore", async () => {
    const dir = await context({
      Dockerfile: "# check=experimental=CopyIgnoredFile\nFROM scratch\nCOPY secret /\n",
      ".dockerignore": "secret\n",
      secret: "",
    });
    const r = await runCli(["build", "--check", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'WARNING: CopyIgnoredFile - https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/\nAttempting to Copy file "secret" that is excluded by .dockerignore\n',
    );
  });

  it("emits JSON lines with --progress json", async () => {
    const dir = await context({
      Dockerfile: "FROM scratch\nMAINTAINER me\nFROM scratch AS a\nCOPY --from=9 / /\n",
    });
    const r = await runCli(["build", "--check", "--progress", "json", dir]);
    expect(r.code).toBe(1);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      {
        type: "lint",
        rule: "MaintainerDeprecated",
        message: "Maintainer instruction is deprecated in favor of using label",
        description:
          "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
        url: "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/",
        file: "Dockerfile",
        line: 2,
        endLine: 2,
      },
      {
        type: "check",
        warnings: 1,
        error: {
          code: "UNKNOWN_STAGE",
          message: "invalid stage index 9",
          file: "Dockerfile",
          line: 4,
          column: 13,
        },
      },
    ]);
  });

  it("names an unknown target", async () => {
    const dir = await context({ Dockerfile: "FROM scratch AS base\n" });
    const r = await runCli(["build", "--check", "--target", "bse", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: target stage "bse" could not be found (did you mean base?)\n');
  });

  it("reports a missing Dockerfile or context", async () => {
    const dir = await context({});
    expect(await runCli(["build", "--check", dir])).toMatchObject({
      code: 1,
      stderr: "Error: failed to read dockerfile: open Dockerfile: no such file or directory\n",
    });
    expect(await runCli(["build", "--check", join(dir, "nope")])).toMatchObject({ code: 1 });
  });

  it("takes SOURCE_DATE_EPOCH from the environment, as buildx does, unless --build-arg gives it", async () => {
    const dir = await context({ Dockerfile: "FROM scratch\nCOPY Dockerfile /\n" });
    const root = await tempDir("tsbuild-store-");
    dirs.push(root);
    const env = { ...process.env, SOURCE_DATE_EPOCH: "1700000000" };
    const created = async (args: string[]) => {
      const r = await runCli(["--root", root, "build", "-q", ...args, dir], { env });
      expect(r.code).toBe(0);
      const inspect = await runCli(["--root", root, "image", "inspect", r.stdout.trim()]);
      return JSON.parse(inspect.stdout)[0].Created;
    };
    expect(await created([])).toBe("2023-11-14T22:13:20Z");
    expect(await created(["--build-arg", "SOURCE_DATE_EPOCH=1600000000"])).toBe("2020-09-13T12:26:40Z");
  });

  it.each([
    [["-t", "Bad:tag"], 'invalid argument "Bad:tag" for "-t, --tag" flag'],
    [["--platform", "linux/a/b/c"], 'invalid argument "linux/a/b/c" for "--platform" flag'],
    [["--network", "bridge"], 'invalid argument "bridge" for "--network" flag: choose from'],
    [["--progress", "fancy"], 'invalid argument "fancy" for "--progress" flag: choose from'],
  ])("rejects bad flags %j with exit 2", async (flags, message) => {
    const dir = await context({ Dockerfile: "FROM scratch\n" });
    const r = await runCli(["build", "--check", ...flags, dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe("tsbuild build --check exit status, as BuildKit's lint tests expect", () => {
  const SRC = "FROM scratch as base\ncopy Dockerfile .\n";
  // [source (dockerfile_lint_test.go), directive, build args, exit code, rules reported, error text]
  const cases: [string, string, string[], number, string[], string | undefined][] = [
    ["testRuleCheckOption", "#check=skip=all", [], 0, [], undefined],
    ["testRuleCheckOption", "#check=skip=all;error=true", [], 0, [], undefined],
    [
      "testRuleCheckOption",
      "#check=skip=ConsistentInstructionCasing,FromAsCasing;error=true",
      [],
      0,
      [],
      undefined,
    ],
    ["testRuleCheckOption", "#check=skip=ConsistentInstructionCasing", [], 1, ["FromAsCasing"], undefined],
    [
      "testRuleCheckOption",
      "#check=skip=ConsistentInstructionCasing;error=true",
      [],
      1,
      ["FromAsCasing"],
      "lint violation found for rules: FromAsCasing",
    ],
    [
      "testRuleCheckOption (build arg wins)",
      "#check=skip=all",
      ["--build-arg", "BUILDKIT_DOCKERFILE_CHECK=skip=ConsistentInstructionCasing;error=true"],
      1,
      ["FromAsCasing"],
      "lint violation found for rules: FromAsCasing",
    ],
    [
      "testRuleCheckOption (build arg skip=all)",
      "#check=error=true",
      ["--build-arg", "BUILDKIT_DOCKERFILE_CHECK=skip=all"],
      0,
      [],
      undefined,
    ],
  ];
  it.each(cases)("%s: %s %j", async (_src, directive, flags, code, rules, error) => {
    const dir = await context({ Dockerfile: `${directive}\n${SRC}` });
    const r = await runCli(["build", "--check", "--progress", "json", ...flags, dir]);
    expect(r.code).toBe(code);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; rule?: string; error?: { message?: string } | string });
    expect(events.filter((e) => e.type === "lint").map((e) => e.rule)).toEqual(rules);
    const check = events.find((e) => e.type === "check");
    expect(JSON.stringify(check?.error ?? null)).toContain(error ?? "null");
  });

  it("testWarningsBeforeError: findings above a bad instruction are printed with the error", async () => {
    const dir = await context({
      Dockerfile: "\nFROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n",
    });
    const r = await runCli(["build", "--check", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Check complete, 2 warnings have been found!");
    expect(r.stdout).toContain("WARNING: StageNameCasing");
    expect(r.stdout).toContain("WARNING: MaintainerDeprecated");
    expect(r.stdout + r.stderr).toContain("unknown instruction: BADCMD");
  });
});

describe("tsbuild build --check with images in the local store", () => {
  async function storeWith(name: string, env: string[]): Promise<string> {
    const root = await tempDir("tsbuild-store-");
    dirs.push(root);
    const config = canonicalJson({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
      config: { Env: env },
    });
    const store = await ImageStore.open({ root });
    try {
      await store.addImage({
        manifest: {
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
          layers: [],
        },
        config,
        names: [name],
      });
    } finally {
      await store.close();
    }
    return root;
  }

  it("expands with the base image's ENV, so UndefinedVar is exact", async () => {
    const root = await storeWith("golang:1", ["PATH=/go/bin", "GOPATH=/go"]);
    const dir = await context({ Dockerfile: "FROM golang:1\nWORKDIR $GOPATH/src\nCOPY $NOPE /x\n" });
    const r = await runCli(["--root", root, "build", "--check", ...AMD64, dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Check complete, 1 warning has been found!");
    expect(r.stdout).toContain("Usage of undefined variable '$NOPE'");
  });

  it("stays quiet about variables when the base image is not in the store", async () => {
    const root = await storeWith("other:1", []);
    const dir = await context({ Dockerfile: "FROM golang:1\nWORKDIR $GOPATH/src\nCOPY $NOPE /x\n" });
    const r = await runCli(["--root", root, "build", "--check", ...AMD64, dir]);
    expect(r).toMatchObject({ code: 0, stdout: "Check complete, no warnings found.\n" });
  });
});

describe("tsbuild build", () => {
  it("accepts docker's build flags, builds, and warns as docker does", async () => {
    const dir = await context({
      Dockerfile: "FROM scratch AS base\nCOPY . /src\nFROM base\nCMD run\n",
      ".dockerignore": "*.log\n",
      "a.txt": "",
      "b.log": "",
    });
    const root = await tempDir("tsbuild-build-root-");
    dirs.push(root);
    const r = await runCli([
      "--root",
      root,
      "build",
      "-t",
      "app:1",
      "--tag",
      "app:latest",
      "--build-arg",
      "UNUSED=1",
      "--platform",
      "linux/amd64",
      "--progress",
      "plain",
      "--no-cache",
      "--network",
      "none",
      "--pull",
      dir,
    ]);
    expect(r.stderr).toContain(
      [
        " 1 warning found (use docker --debug to expand):",
        " - JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 4)",
        "[Warning] One or more build-args [UNUSED] were not consumed",
      ].join("\n"),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Successfully built [0-9a-f]{12}\nSuccessfully tagged app:1\nSuccessfully tagged app:latest\n$/,
    );
  });

  it("records no parent, as BuildKit: history shows <missing> on a local base's rows", async () => {
    const root = await tempDir("tsbuild-build-root-");
    dirs.push(root);
    const rootfs = await context({ "etc/os": "base\n" });
    const imported = await runCli(["--root", root, "image", "import", "-m", "the base", rootfs, "base:1"]);
    expect(imported.code).toBe(0);
    const dir = await context({ Dockerfile: 'FROM base:1\nCOPY Dockerfile /\nCMD ["x"]\n' });
    expect((await runCli(["--root", root, "build", "-q", "-t", "app:1", dir])).code).toBe(0);
    const inspect = await runCli([
      "--root",
      root,
      "image",
      "inspect",
      "--format",
      "{{.Id}} [{{.Parent}}]",
      "app:1",
    ]);
    const id = /^sha256:([0-9a-f]{12})[0-9a-f]{52} \[\]\n$/.exec(inspect.stdout)?.[1];
    expect(id, inspect.stdout).toBeDefined();
    const history = await runCli([
      "--root",
      root,
      "image",
      "history",
      "--format",
      "{{.ID}} {{.Comment}}",
      "app:1",
    ]);
    expect(history.stdout).toBe(
      `${id} buildkit.dockerfile.v0\n<missing> buildkit.dockerfile.v0\n<missing> the base\n`,
    );
  });

  it("stops on an invalid .dockerignore", async () => {
    const dir = await context({ Dockerfile: "FROM scratch\n", ".dockerignore": "!\n" });
    const r = await runCli(["build", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('illegal exclusion pattern: "!"');
  });
});

describe("parseBuildArgs", () => {
  it("reads KEY=VALUE and KEY from the environment", () => {
    expect(parseBuildArgs(["A=1", "B=x=y", "C", "D", "A=2"], { C: "env" })).toEqual({
      A: "2",
      B: "x=y",
      C: "env",
    });
  });
});

describe("tsbuild build: contexts and outputs", () => {
  async function root(): Promise<string> {
    const r = await tempDir("tsbuild-build-root-");
    dirs.push(r);
    return r;
  }

  it("takes a Dockerfile on stdin with no context (build -)", async () => {
    const r = await runCli(["--root", await root(), "build", "-q", "-"], {
      stdin: 'FROM scratch\nLABEL a=b\nCMD ["/x"]\n',
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });

  it("takes a tar context on stdin, and refuses stdin for both", async () => {
    const dir = await context({ Dockerfile: "FROM scratch\nCOPY a /a\n", a: "x" });
    const tar = execFileSync("tar", ["-C", dir, "-cf", "-", "."]);
    const store = await root();
    const r = await runCli(["--root", store, "build", "-t", "t:1", "-"], { stdin: tar });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Successfully tagged t:1");
    const both = await runCli(["--root", store, "build", "-f", "-", "-"], { stdin: "FROM scratch\n" });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("can't use stdin for both build context and dockerfile");
  });

  it("writes an OCI layout that skopeo reads, a docker archive, and the image id to --iidfile", async () => {
    const dir = await context({ Dockerfile: 'FROM scratch\nCOPY a /a\nCMD ["/a"]\n', a: "x" });
    const out = await tempDir("tsbuild-build-out-");
    dirs.push(out);
    const r = await runCli([
      "--root",
      await root(),
      "build",
      "-q",
      "-t",
      "app:2",
      "--iidfile",
      join(out, "iid"),
      "-o",
      `type=oci,dest=${join(out, "layout")}`,
      "--output",
      `type=docker,dest=${join(out, "image.tar")}`,
      "-o",
      `type=local,dest=${join(out, "rootfs")}`,
      dir,
    ]);
    expect(r.stderr).toBe("");
    const id = r.stdout.trim();
    expect(await readFile(join(out, "iid"), "utf8")).toBe(id);
    const cfg = JSON.parse(
      execFileSync("skopeo", ["inspect", "--config", `oci:${join(out, "layout")}:2`], { encoding: "utf8" }),
    );
    expect(cfg.config.Cmd).toEqual(["/a"]);
    const fromArchive = JSON.parse(
      execFileSync("skopeo", ["inspect", "--config", `docker-archive:${join(out, "image.tar")}`], {
        encoding: "utf8",
      }),
    );
    expect(fromArchive.rootfs.diff_ids).toEqual(cfg.rootfs.diff_ids);
    expect(await readFile(join(out, "rootfs", "a"), "utf8")).toBe("x");
  });
});
