import { execFile, execFileSync } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { importTree } from "../commands/__fixtures__/image.js";
import { runCli, tempDir } from "../testing.js";

/** BIN is the CLI as a user runs it; completion calls it (as `tsbuild` on PATH) for image names. */
const BIN = join(import.meta.dirname, "..", "..", "..", "..", "bin", "tsbuild");

let root: string;
let bashScript: string;
let zshScript: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  root = await tempDir();
  await importTree(root, "nginx:latest");
  expect((await runCli(["--root", root, "tag", "nginx:latest", "registry.example.com/app:1"])).code).toBe(0);
  await importTree(root); // untagged: no name to offer
  const dir = await tempDir();
  for (const shell of ["bash", "zsh"]) {
    const r = await runCli(["completion", shell]);
    expect(r.code).toBe(0);
    await writeFile(join(dir, `tsbuild.${shell}`), r.stdout);
  }
  bashScript = join(dir, "tsbuild.bash");
  zshScript = join(dir, "tsbuild.zsh");
  // `tsbuild` on PATH, as an installed CLI.
  const bin = join(dir, "bin");
  await promisify(execFile)("mkdir", [bin]);
  await writeFile(join(bin, "tsbuild"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  await chmod(join(bin, "tsbuild"), 0o755);
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
});

/**
 * bash runs the completion function as bash does on TAB: COMP_WORDS split at
 * bash's word breaks (':' among them), COMP_CWORD, COMP_LINE and COMP_POINT;
 * it returns COMPREPLY, and whether file names were asked for.
 */
async function bash(line: string, options: { lineVars?: boolean } = {}): Promise<string[]> {
  // bash's split: spaces, and ':' as a word of its own.
  const words = line.split(" ").flatMap((w) => w.split(/(:)/).filter((p) => p !== ""));
  if (line.endsWith(" ")) words.push("");
  if (words.at(-1) === ":") words.push("");
  const script = `
    source "$1"
    COMP_WORDS=("\${@:2}")
    COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
    ${options.lineVars === false ? "" : `COMP_LINE=${shellQuote(line)}; COMP_POINT=\${#COMP_LINE}`}
    compopt() { COMPOPT="$*"; }
    _tsbuild
    echo "compopt: \${COMPOPT-}"
    printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await promisify(execFile)("bash", ["-c", script, "bash", bashScript, ...words], {
    env,
  });
  const [compopt, ...reply] = stdout.split("\n").filter((l) => l !== "");
  return compopt === "compopt: -o default" ? ["<files>", ...reply] : reply;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

describe("tsbuild completion bash", () => {
  it("is valid bash", () => {
    execFileSync("bash", ["-n", bashScript]);
  });

  it("completes commands, subcommands and their aliases", async () => {
    expect(await bash("tsbuild im")).toEqual(["image", "import", "images"]);
    expect(await bash("tsbuild image l")).toEqual(["load", "ls", "list"]);
    expect(await bash("tsbuild builder ")).toEqual(["prune", "du"]);
    expect(await bash("tsbuild --root /x ver")).toEqual(["version"]);
  });

  it("completes a command's own flags, then the global ones; the top level has -v/--version", async () => {
    expect(await bash("tsbuild image ls --f")).toEqual(["--filter", "--format"]);
    expect(await bash("tsbuild images --no")).toEqual(["--no-trunc"]);
    expect(await bash("tsbuild build --ro")).toEqual(["--root"]);
    expect(await bash("tsbuild --ver")).toEqual(["--version"]);
    expect(await bash("tsbuild image ls --ver")).toEqual([]);
  });

  it("completes a flag's choices, and files for other values and arguments", async () => {
    expect(await bash("tsbuild build --progress ")).toEqual(["auto", "plain", "tty", "json", "quiet"]);
    expect(await bash("tsbuild build -t x:1 --network h")).toEqual(["host"]);
    expect(await bash("tsbuild build -f ")).toEqual(["<files>"]);
    expect(await bash("tsbuild build -t app:1 ")).toEqual(["<files>"]);
    expect(await bash("tsbuild image save -o ")).toEqual(["<files>"]);
    expect(await bash("tsbuild completion ")).toEqual(["bash", "zsh"]);
  });

  it("completes image names from the store --root names, for the commands that take one", async () => {
    const r = `--root ${root}`;
    const names = ["nginx:latest", "registry.example.com/app:1"];
    for (const cmd of [
      "rmi",
      "image rm",
      "tag",
      "history",
      "image inspect",
      "push",
      "save",
      "image save nginx:latest",
    ])
      expect(await bash(`tsbuild ${r} ${cmd} `), cmd).toEqual(names);
    expect(await bash(`tsbuild ${r} tag nginx:latest `)).toEqual(names);
    // Words bash splits at ':' are put back together; the reply replaces what follows the ':'.
    expect(await bash(`tsbuild ${r} rmi ng`)).toEqual(["nginx:latest"]);
    expect(await bash(`tsbuild ${r} rmi nginx:la`)).toEqual(["latest"]);
    // Without COMP_LINE, from COMP_WORDS alone.
    expect(await bash(`tsbuild ${r} inspect reg`, { lineVars: false })).toEqual([
      "registry.example.com/app:1",
    ]);
    // pull names an image in a registry, not in the store.
    expect(await bash(`tsbuild ${r} pull `)).toEqual(["<files>"]);
  });
});

describe("tsbuild completion zsh", () => {
  it("is valid zsh", () => {
    execFileSync("zsh", ["-n", zshScript]);
  });

  it("offers what bash does, through compadd", async () => {
    const run = async (words: string[]) => {
      const script = `source "$1"; compadd() { print -rl -- "$@" }; _files() { print -r -- "<files>" }
        _describe() { print -rl -- "\${(@P)4}" }
        words=("\${@:2}"); CURRENT=\${#words}; _tsbuild`;
      const { stdout } = await promisify(execFile)("zsh", ["-f", "-c", script, "zsh", zshScript, ...words], {
        env,
      });
      return stdout.split("\n").filter((l) => l !== "" && l !== "--");
    };
    // Subcommands with their summaries, through _describe.
    expect(await run(["tsbuild", "builder", ""])).toEqual([
      "prune:Remove build cache",
      "du:Show build cache disk usage",
    ]);
    expect(await run(["tsbuild", "image", "l"])).toContain("list:List images");
    expect(await run(["tsbuild", "--root", root, "rmi", ""])).toEqual([
      "nginx:latest",
      "registry.example.com/app:1",
    ]);
    expect(await run(["tsbuild", "build", "--progress", ""])).toEqual([
      "auto",
      "plain",
      "tty",
      "json",
      "quiet",
    ]);
    expect(await run(["tsbuild", "build", "-f", ""])).toEqual(["<files>"]);
  });

  it("completes a subcommand and an image name in an interactive zsh (compinit, TAB in a pseudo-terminal)", async () => {
    // zle reads the keys in order: the TAB's completion ends before ^A starts turning the line into a print.
    const script = `
      zmodload zsh/zpty
      zpty z env TERM=dumb zsh -f -i
      zpty -w z 'PROMPT="%% "; autoload -U compinit; compinit -u -D; source ${shellQuote(zshScript)}; bindkey -e'
      zpty -n -w z $'tsbuild --root ${root} image hi\\tngi\\t\\C-aprint -r -- LINE: \\n'
      out=""
      for i in {1..600}; do
        zpty -r -t z chunk && out+=$chunk
        [[ $out == *$'\\n'LINE:*$'\\n'* ]] && break
        sleep 0.1
      done
      zpty -d z
      print -r -- "$out" | tr -d '\\r' | grep -a '^LINE:'`;
    const { stdout } = await promisify(execFile)("zsh", ["-f", "-c", script], { env });
    expect(stdout).toBe(`LINE: tsbuild --root ${root} image history nginx:latest\n`);
  });
});
