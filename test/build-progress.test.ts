import { execFile } from "node:child_process";
import { copyFile, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../packages/cli/src/testing.js";
import { Screen } from "../packages/cli/src/testing-vt.js";
import { runInPty } from "./support/pty.js";

/**
 * The build's progress as a user sees it, from the CLI a user runs (bin/tsbuild, spawned): the live
 * view on a real pseudo-terminal, BuildKit's plain lines when output is not a terminal, one JSON event
 * per line, the id alone with -q, and no colors under NO_COLOR.
 */

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
const TSBUILD = join(repo, "bin/tsbuild");
const DOCKERFILE = [
  "FROM bb:1",
  "COPY a.txt /a.txt",
  "ENV X=1",
  // The sleep keeps the step running across a few repaints, so its output shows in the live view.
  "RUN echo one; echo two; echo three; sleep 1",
].join("\n");

let dir: string;
let ctx: string;

/** store makes an empty store holding the busybox base `bb:1`. */
async function store(name: string): Promise<string> {
  const root = join(dir, name);
  const r = await runCli(["--root", root, "image", "import", join(dir, "rootfs"), "bb:1"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return root;
}

/** tsbuild runs the CLI with pipes (not a terminal), as CI does. */
async function tsbuild(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const r = await exec(process.execPath, [TSBUILD, ...args], {
      env: { ...process.env, NO_COLOR: "", ...env },
      encoding: "utf8",
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** normalise replaces what changes between runs: times, digests, sizes. */
function normalise(text: string): string {
  return text
    .replace(/sha256:[0-9a-f]+/g, "sha256:…")
    .replace(/ +\d+\.\ds$/gm, " <t>")
    .replace(/\b\d+\.\d+s\b/g, "<t>")
    .replace(/^(#\d+) \d+\.\d+ /gm, "$1 <ts> ")
    .replace(/\(\d+(\.\d+)?[kMG]?B\)/g, "(<size>)")
    .replace(/(Successfully built|Built) [0-9a-f]{12}\b/g, "$1 <id>");
}

beforeAll(async () => {
  dir = await tempDir("tsbuild-progress-");
  const rootfs = join(dir, "rootfs");
  await mkdir(join(rootfs, "bin"), { recursive: true });
  await copyFile("/bin/busybox", join(rootfs, "bin/busybox"));
  for (const a of ["sh", "echo", "sleep", "false"]) await symlink("busybox", join(rootfs, "bin", a));
  ctx = join(dir, "ctx");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), DOCKERFILE);
  await writeFile(join(ctx, "a.txt"), "a\n");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("tsbuild build progress", () => {
  it("on a terminal: a live view repainted in place, then BuildKit's final screen and a summary", async () => {
    const root = await store("tty");
    const r = await runInPty([process.execPath, TSBUILD, "--root", root, "build", "-t", "app:1", ctx], {
      env: { ...process.env, NO_COLOR: "" },
      cols: 80,
      rows: 24,
    });
    const raw = r.output.toString("utf8");
    expect(r.code, raw).toBe(0);
    // Repainted in place: the cursor goes up over the last paint; the running step's output showed.
    expect(raw).toMatch(/\x1b\[\d+A/);
    expect(raw).toContain(" => => # three");
    const screen = new Screen(80).write(r.output);
    expect(screen.sgr).toBeGreaterThan(0);
    expect(normalise(screen.text())).toBe(
      [
        "[+] Building <t> (4/4) FINISHED",
        " => CACHED [1/3] FROM docker.io/library/bb:1@sha256:… <t>",
        " => [2/3] COPY a.txt /a.txt <t>",
        " => [3/3] RUN echo one; echo two; echo three; sleep 1 <t>",
        " => exporting to image <t>",
        " => => exporting layers <t>",
        " => => naming to docker.io/library/app:1 <t>",
        "Built <id> (<size>) in <t>: 2 steps, 0 cached, 2 run",
        "Successfully built <id>",
        "Successfully tagged app:1",
      ].join("\n"),
    );
    // Every line fits the terminal, one column short of its edge, as BuildKit draws them.
    for (const line of screen.text().split("\n")) expect(line.length).toBeLessThan(80);
  });

  it("on a terminal with NO_COLOR: the same view without a color code", async () => {
    const root = await store("nocolor");
    const r = await runInPty([process.execPath, TSBUILD, "--root", root, "build", ctx], {
      env: { ...process.env, NO_COLOR: "1" },
      cols: 100,
    });
    expect(r.code).toBe(0);
    const screen = new Screen(100).write(r.output);
    expect(screen.sgr).toBe(0);
    expect(screen.text()).toMatch(/^\[\+\] Building \d+\.\ds \(4\/4\) FINISHED\n => CACHED \[1\/3\] FROM/);
  });

  it("without a terminal: BuildKit's plain lines, no escape code; a rebuild is CACHED", async () => {
    const root = await store("plain");
    const r = await tsbuild(["--root", root, "build", "-t", "app:1", ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("\x1b");
    expect(normalise(r.stderr)).toBe(
      [
        "#1 [1/3] FROM docker.io/library/bb:1@sha256:…",
        "#1 CACHED",
        "",
        "#2 [2/3] COPY a.txt /a.txt",
        "#2 DONE <t>",
        "",
        "#3 [3/3] RUN echo one; echo two; echo three; sleep 1",
        "#3 <ts> one",
        "#3 <ts> two",
        "#3 <ts> three",
        "#3 DONE <t>",
        "",
        "#4 exporting to image",
        "#4 exporting layers done",
        "#4 naming to docker.io/library/app:1 done",
        "#4 DONE <t>",
        "Built <id> (<size>) in <t>: 2 steps, 0 cached, 2 run",
        "",
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/^Successfully built [0-9a-f]{12}\nSuccessfully tagged app:1\n$/);
    const again = await tsbuild(["--root", root, "build", "--progress", "plain", ctx]);
    expect(normalise(again.stderr)).toContain(
      "#3 [3/3] RUN echo one; echo two; echo three; sleep 1\n#3 CACHED\n",
    );
    expect(again.stderr).toContain(": 2 steps, 2 cached, 0 run\n");
  });

  it("a failed step: ERROR on its line, its last output framed, then the error", async () => {
    const root = await store("fail");
    const failing = join(dir, "failing");
    await mkdir(failing);
    await writeFile(join(failing, "Dockerfile"), "FROM bb:1\nRUN echo before; false\n");
    const r = await tsbuild(["--root", root, "build", "--progress", "plain", failing]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("\x1b");
    const text = normalise(r.stderr);
    expect(text).toContain("#2 [2/2] RUN echo before; false\n#2 <ts> before\n#2 ERROR: ");
    expect(text).toContain("------\n > [2/2] RUN echo before; false:\nbefore\n------\n");
    expect(text).toMatch(/\nError: .*exit code: 1/);
  });

  it("a failed step on a terminal: its line turns ERROR, then its output framed and the error", async () => {
    const root = await store("fail-tty");
    const failing = join(dir, "failing-tty");
    await mkdir(failing);
    await writeFile(join(failing, "Dockerfile"), "FROM bb:1\nRUN echo before; false\n");
    const r = await runInPty([process.execPath, TSBUILD, "--root", root, "build", failing], {
      env: { ...process.env, NO_COLOR: "" },
    });
    expect(r.code).toBe(1);
    const lines = normalise(new Screen(80).write(r.output).text()).split("\n");
    expect(lines.slice(0, 7)).toEqual([
      "[+] Building <t> (2/2) FINISHED",
      " => CACHED [1/2] FROM docker.io/library/bb:1@sha256:… <t>",
      " => ERROR [2/2] RUN echo before; false <t>",
      "------",
      " > [2/2] RUN echo before; false:",
      "before",
      "------",
    ]);
    expect(lines.slice(7).join("")).toMatch(/^Error: process .*exit code: 1/);
  });

  it("--progress json: one library event per line, in order, then the image", async () => {
    const root = await store("json");
    const r = await tsbuild(["--root", root, "build", "--progress", "json", "-t", "app:1", ctx]);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; id?: number; name?: string; data?: string });
    const open = new Set<number>();
    const seen = new Set<number>();
    for (const e of events) {
      if (e.type === "step") {
        expect(seen.has(e.id!)).toBe(false);
        open.add(e.id!);
        seen.add(e.id!);
      } else if (e.type === "log" || e.type === "cached" || e.type === "progress") {
        expect(open.has(e.id!), JSON.stringify(e)).toBe(true);
      } else if (e.type === "done") {
        expect(open.delete(e.id!)).toBe(true);
      }
    }
    expect(open.size).toBe(0);
    expect(events.filter((e) => e.type === "step").map((e) => normalise(e.name!))).toEqual([
      "[1/3] FROM docker.io/library/bb:1@sha256:…",
      "[2/3] COPY a.txt /a.txt",
      "[3/3] RUN echo one; echo two; echo three; sleep 1",
      "exporting to image",
    ]);
    expect(
      events
        .filter((e) => e.type === "log")
        .map((e) => e.data)
        .join(""),
    ).toBe("one\ntwo\nthree\n");
    const last = events.at(-1) as unknown as { type: string; id: string; names: string[]; steps: number };
    expect(last).toMatchObject({ type: "image", names: ["docker.io/library/app:1"], steps: 2 });
    expect(last.id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("-q prints the image id alone", async () => {
    const root = await store("quiet");
    const r = await tsbuild(["--root", root, "build", "-q", ctx]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });
});
