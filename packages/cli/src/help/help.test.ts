import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { commands } from "../commands/index.js";
import { GLOBAL_OPTIONS } from "../global-options.js";
import { runCli, tempDir } from "../testing.js";
import { wrap } from "./flags.js";
import { isGroup, loaded, type Node, subcommandsOf, walkTree } from "./help.js";
import { helpRequest } from "./request.js";
import { type AnyCommand, describeOf, nameOf, shapeOf } from "./shape.js";

/** BIN is the CLI as a user runs it (bin/tsbuild: the bundle `pnpm build` writes). */
const BIN = join(import.meta.dirname, "..", "..", "..", "..", "bin", "tsbuild");

async function spawned(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Help pages in docker's shape, as a spawned `tsbuild` prints them (not a terminal: 79 columns). */
describe("help pages", () => {
  it("tsbuild image ls --help", async () => {
    expect(await spawned(["image", "ls", "--help"])).toEqual({
      code: 0,
      stderr: "",
      stdout: `Usage:  tsbuild image ls [OPTIONS] [REFERENCE]

List images

Aliases:
  tsbuild image ls, tsbuild image list, tsbuild images

Examples:
  # list images without a name
  tsbuild image ls --filter dangling=true

Options:
  -a, --all             Show all images (default hides intermediate images)
      --digests         Show digests
  -f, --filter list     Filter output (dangling=, reference=, before=,
                        since=, label=)
      --format string   Format output: table, json, or a Go template
      --no-trunc        Don't truncate output
  -q, --quiet           Only show image IDs
`,
    });
  });

  it("tsbuild tag --help: no flags, so no [OPTIONS] and no Options", async () => {
    expect(await spawned(["tag", "--help"])).toEqual({
      code: 0,
      stderr: "",
      stdout: `Usage:  tsbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE

Aliases:
  tsbuild image tag, tsbuild tag

Examples:
  # name an image for another registry
  tsbuild image tag myapp:1.0 registry.example.com/team/myapp:1.0
`,
    });
  });

  it("tsbuild builder prune -h (a subcommand of a group whose module loads on demand)", async () => {
    expect(await spawned(["builder", "prune", "-h"])).toEqual({
      code: 0,
      stderr: "",
      stdout: `Usage:  tsbuild builder prune [OPTIONS]

Remove build cache

Examples:
  # drop every cache record not used for a day
  tsbuild builder prune -a -f --filter until=24h

Options:
  -a, --all           Remove all unused build cache, not just dangling ones
      --filter list   Provide filter values (e.g. "until=24h")
  -f, --force         Do not prompt for confirmation
`,
    });
  });

  it("tsbuild --help: usage, summary, command lists, global options, the hint once", async () => {
    const r = await spawned(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      /^Usage: {2}tsbuild \[OPTIONS\] COMMAND\n\nBuild, store and push OCI images without a daemon\n\nCommon Commands:\n {2}run {9}Create and run[^\n]*\n {2}build {7}Build an image from a Dockerfile[^\n]*\n {2}pull {8}Download[^\n]*\n {2}push {8}Upload[^\n]*\n {2}images {6}List images\n {2}login {7}Log in[^\n]*\n {2}logout {6}Log out[^\n]*\n {2}version {5}Show the tsbuild version information\n\nManagement Commands:\n {2}builder {5}Manage the build cache\n[\s\S]*\n\nCommands:\n {2}completion {2}Print[\s\S]*\n\nGlobal Options:\n[\s\S]*\n {6}--root string {3,}Local image store[\s\S]*\n {2}-v, --version {3,}Print version information and quit\n\nRun 'tsbuild COMMAND --help' for more information on a command\.\n$/,
    );
    expect(r.stdout.match(/Run 'tsbuild COMMAND --help'/g)).toHaveLength(1);
  });

  it("bare tsbuild and a bare group print their help once on stderr and exit 0, as docker", async () => {
    const top = await spawned([]);
    expect(top).toEqual({ code: 0, stdout: "", stderr: (await spawned(["--help"])).stdout });
    const image = await spawned(["image"]);
    expect(image).toEqual({ code: 0, stdout: "", stderr: (await spawned(["image", "--help"])).stdout });
    expect(image.stderr).toMatch(
      // append (crane's verb, not docker's) sorts before build.
      /^Usage: {2}tsbuild image COMMAND\n\nManage images\n\nCommands:\n {2}append {6}Append[^\n]*\n {2}build {7}Build/,
    );
  });

  it("tsbuild help COMMAND… is COMMAND… --help", async () => {
    for (const path of [[], ["image"], ["image", "ls"], ["builder", "du"]]) {
      const help = await runCli([...path, "--help"]);
      expect(await runCli(["help", ...path])).toEqual(help);
    }
  });

  it("the global options and a command's flags may come before --help", async () => {
    const root = await tempDir();
    const plain = await runCli(["image", "ls", "--help"]);
    expect(await runCli(["--root", root, "image", "ls", "-a", "--filter", "x=y", "--help"])).toEqual(plain);
    expect(await runCli(["--root", root, "images", "-q", "-h"])).toEqual(await runCli(["images", "--help"]));
  });

  it("after --, --help is an argument", async () => {
    const r = await runCli(["--root", await tempDir(), "image", "tag", "--", "--help", "x:1"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^tsbuild: /);
    expect(r.code).toBe(2);
  });

  it("unknown commands and flags are usage errors (exit 2), not help", async () => {
    expect(await runCli(["bogus", "--help"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "tsbuild: 'bogus' is not a tsbuild command.\nSee 'tsbuild --help'.\n",
    });
    const r = await runCli(["image", "ls", "-v"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tsbuild: unknown flag: -v\nSee 'tsbuild image ls --help'\.\n/);
  });

  it("--version and -v print docker's version line", async () => {
    for (const flag of ["--version", "-v"]) {
      expect(await runCli([flag])).toEqual({
        code: 0,
        stdout: "tsbuild version 0.1.0, build unknown\n",
        stderr: "",
      });
    }
    const bundled = await spawned(["--version"]);
    expect(bundled.stdout).toMatch(/^tsbuild version 0\.1\.0, build [0-9a-f]{7,}\n$/);
  });
});

async function allNodes(): Promise<{ node: Node; command: AnyCommand }[]> {
  return (await walkTree(commands)).map((node) => ({ node, command: node.command as AnyCommand }));
}

describe("every command's help", async () => {
  const nodes = await allNodes();
  it("finds the commands that other tests name", () => {
    const paths = nodes.map((n) => n.node.path.join(" "));
    for (const p of [
      "build",
      "image ls",
      "images",
      "builder prune",
      "pull",
      "push",
      "image build",
      "image push",
    ])
      expect(paths).toContain(p);
  });
  for (const { node, command } of nodes) {
    const path = node.path.join(" ");
    it(`tsbuild ${path} --help`, async () => {
      const r = await runCli([...node.path, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      const text = r.stdout;
      expect(text).toMatch(new RegExp(`^Usage: {2}tsbuild ${path}[ \n]`));
      const describe = describeOf(command);
      expect(describe).not.toBe("");
      expect(text.split("\n")[2]).toBe(describe);
      // Global options are on the top-level page only.
      for (const name of Object.keys(GLOBAL_OPTIONS)) expect(text).not.toContain(`--${name}`);
      const shape = shapeOf(await loaded(command));
      if (isGroup(command)) {
        expect(text).toMatch(/\nCommands:\n/);
        for (const sub of await subcommandsOf(node, commands)) {
          expect(text).toMatch(new RegExp(`\\n {2}${nameOf(sub)} +${escapeRe(describeOf(sub))}\\n`));
        }
        expect(
          text.endsWith(`\n\nRun 'tsbuild ${path} COMMAND --help' for more information on a command.\n`),
        ).toBe(true);
        return;
      }
      // One example at least, as a comment and the command.
      expect(text).toMatch(/\n\nExamples:\n {2}# \S.*\n {2}(\S.*?)?\btsbuild \S/);
      expect(shape.examples.length).toBeGreaterThan(0);
      const flags = [...shape.options].filter(([, o]) => !o.hidden);
      if (flags.length === 0) {
        expect(text).not.toContain("\nOptions:\n");
        expect(text).not.toContain("[OPTIONS]");
        return;
      }
      const options = text.slice(text.indexOf("\n\nOptions:\n"));
      expect(options.length).toBeLessThan(text.length);
      for (const [name, o] of flags) {
        const short = [o.alias ?? []].flat().find((a) => a.length === 1);
        expect(options).toMatch(
          new RegExp(`\\n {2}${short ? `-${short}, ` : " {4}"}--${escapeRe(name)}[ \\n]`),
        );
      }
      // docker's layout: no yargs annotations.
      expect(text).not.toMatch(/\[(string|boolean|array|required)\]|\[default:/);
    });
  }
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("helpRequest", () => {
  // A command that stops reading its own flags at its first argument, as `run IMAGE CMD…` does.
  const runLike: AnyCommand = {
    command: "exec <image> [cmd..]",
    describe: "Run a command",
    builder: (y) =>
      y
        .parserConfiguration({ "halt-at-non-option": true })
        .option("env", { alias: "e", type: "string" })
        .option("hostname", { alias: "h", type: "string" }),
    handler: () => {},
  };
  const top = [runLike];
  const kind = async (argv: string[]) => (await helpRequest(argv, top))?.kind;

  it("reads --help up to the first argument of a command that halts there", async () => {
    expect(await kind(["exec", "--help"])).toBe("help");
    expect(await kind(["exec", "-e", "--help", "img"])).toBeUndefined(); // the value of -e
    expect(await kind(["exec", "-e", "A=1", "--help", "img"])).toBe("help");
    expect(await kind(["exec", "img", "sh", "--help"])).toBeUndefined();
    expect(await kind(["exec", "img", "--", "--help"])).toBeUndefined();
  });

  it("leaves -h to a command that has an -h of its own", async () => {
    expect(await kind(["exec", "-h", "box", "img"])).toBeUndefined();
  });

  it("-v is the version before any command only", async () => {
    expect(await kind(["-v"])).toBe("version");
    expect(await kind(["exec", "-v"])).toBeUndefined();
  });
});

describe("wrap (pflag's)", () => {
  // Lines of docker's own golden help (e2e/stack/testdata/stack-deploy-help.golden, 79 columns).
  it("wraps as docker's flag descriptions", () => {
    expect(wrap(31, 79, 'Path to a Compose file, or "-" to read from stdin')).toBe(
      `Path to a Compose file, or "-" to read\n${" ".repeat(31)}from stdin`,
    );
    expect(
      wrap(
        31,
        79,
        'Query the registry to resolve image digest and supported platforms ("always", "changed", "never") (default "always")',
      ),
    ).toBe(
      `Query the registry to resolve image digest\n${" ".repeat(31)}and supported platforms ("always",\n${" ".repeat(31)}"changed", "never") (default "always")`,
    );
  });

  it("starts a description on its own line when the column is too narrow", () => {
    expect(wrap(60, 79, "a b")).toBe(`\n${" ".repeat(16)}a b`);
  });
});
