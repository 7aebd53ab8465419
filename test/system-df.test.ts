import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ImageStore } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX } from "../packages/builder/src/testing/busybox.js";
import { humanSize } from "../packages/cli/src/format/size.js";

/**
 * `tsbuild system df` and `system prune` on a store whose contents the test
 * knows to the byte: a busybox image, a dangling image, the unpacked layer a
 * `tsbuild run` leaves in the layer cache, a RUN step's cache record. Sizes
 * are checked against what the files hold (find -printf %s), `image ls` and
 * `builder du`; a running container keeps its image active and its unpacked
 * layer from prune. The built CLI runs as a separate process.
 */

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(repo, "packages/cli/dist/main.js");

describe("tsbuild system df and prune", () => {
  let work: string;
  let root: string;
  let rootfs: string;
  const cli = (args: string[], stdin = "") =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, "--root", root, ...args], { cwd: work, stdio: "pipe" });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.on("error", reject);
      child.on("close", (code) =>
        resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
      );
      child.stdin.end(stdin);
    });
  const ok = async (args: string[], stdin = "") => {
    const r = await cli(args, stdin);
    if (r.code !== 0) throw new Error(`${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    expect(r.stderr).toBe("");
    return r.stdout;
  };
  /** df parses the summary table into TYPE → [TOTAL, ACTIVE, SIZE, RECLAIMABLE]. */
  const df = async (): Promise<Record<string, string[]>> => {
    const [header, ...rows] = (await ok(["system", "df"])).trimEnd().split("\n");
    expect(header).toBe("TYPE              TOTAL     ACTIVE    SIZE      RECLAIMABLE");
    return Object.fromEntries(
      rows.map((r) => [
        r.slice(0, 18).trim(),
        r
          .slice(18)
          .trim()
          .split(/\s{2,}/),
      ]),
    );
  };
  /** fileBytes is what the regular files of a directory hold, by find(1). */
  const fileBytes = (dir: string) =>
    execFileSync(
      "sh",
      ["-c", `find "$1" -type f -printf '%s\\n' | awk '{s+=$1} END {print s+0}'`, "sh", dir],
      {
        encoding: "utf8",
      },
    ).trim();
  const lsSize = async (name: string) => (await ok(["image", "ls", "--format", "{{.Size}}", name])).trim();

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("runc needs root here: run as root, as CI does");
    if (!existsSync(CLI)) await exec("pnpm", ["exec", "tsc", "-b", "packages/cli"], { cwd: repo });
    work = await mkdtemp(join(tmpdir(), "tsbuild-system-df-"));
    root = join(work, "store");
    rootfs = join(work, "rootfs");
    await mkdir(join(rootfs, "bin"), { recursive: true });
    await mkdir(join(rootfs, "etc"));
    execFileSync("cp", [BUSYBOX, join(rootfs, "bin/busybox")]);
    for (const a of ["sh", "sleep", "echo", "true"]) await symlink("busybox", join(rootfs, "bin", a));
    await writeFile(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    await writeFile(join(rootfs, "etc/group"), "root:x:0:\n");
    const other = join(work, "other");
    await mkdir(other);
    await writeFile(join(other, "data"), "x".repeat(5000));
    await ok(["image", "import", "--change", 'CMD ["sh"]', rootfs, "bb"]);
    // Untagged: a dangling image.
    await ok(["image", "import", other]);
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("counts images, then the layer a run unpacked; a running container keeps it from prune", async () => {
    const bbSize = await lsSize("bb");
    const first = await df();
    expect(first.Images?.slice(0, 2)).toEqual(["2", "0"]);
    expect(first.Images?.[3]).toBe(`${first.Images?.[2]} (100%)`);
    expect(first["Build Cache"]).toEqual(["0", "0", "0B", "0B"]);
    expect(first["Unpacked Layers"]).toEqual(["0", "0", "0B", "0B"]);

    await ok(["run", "bb", "true"]);
    const unpackedDir = join(root, "buildcache/unpacked");
    const [layer] = (await readdir(unpackedDir)).filter((n) => !n.startsWith(".") && !n.includes("."));
    // The unpacked layer holds exactly the rootfs's files.
    const bytes = Number(fileBytes(join(unpackedDir, layer!)));
    expect(bytes).toBe(Number(fileBytes(rootfs)));
    const size = humanSize(bytes, 4);
    expect((await df())["Unpacked Layers"]).toEqual(["1", "0", size, `${size} (100%)`]);
    const verbose = await ok(["system", "df", "-v"]);
    expect(verbose).toContain(
      `Unpacked layers usage: ${size}\n\nCHAIN ID       SIZE      IN USE\n${layer!.slice(0, 12)}   ${humanSize(bytes).padEnd(10)}false\n`,
    );
    const bbRow = verbose.split("\n").find((l) => l.startsWith("bb "));
    expect(bbRow?.split(/\s{2,}/)).toEqual([
      "bb",
      "latest",
      expect.stringMatching(/^[0-9a-f]{12}$/),
      expect.stringMatching(/ ago$/),
      bbSize,
      "0B",
      bbSize,
      "0",
    ]);

    const child = spawn(
      process.execPath,
      [
        CLI,
        "--root",
        root,
        "run",
        "bb",
        "sh",
        "-c",
        'trap "exit 0" TERM; echo ready; while :; do sleep 1; done',
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const closed = new Promise((resolve) => child.on("close", resolve));
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (c: Buffer) => c.toString().includes("ready") && resolve()),
    );
    try {
      const running = await df();
      expect(running.Images?.[1]).toBe("1");
      expect(running["Unpacked Layers"]).toEqual(["1", "1", size, "0B (0%)"]);
      // Declined: nothing goes.
      const declined = await ok(["system", "prune"], "n\n");
      expect(declined).toBe(
        "WARNING! This will remove:\n  - all dangling images\n  - unused build cache\n  - all unpacked layers not used by a running build or container\n\nAre you sure you want to continue? [y/N] ",
      );
      expect((await df()).Images?.[0]).toBe("2");
      // The dangling image goes; the unpacked layer the container runs on stays.
      const pruned = await ok(["system", "prune", "-f"]);
      expect(pruned).toMatch(
        /^Deleted Images:\n(deleted: sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: [1-9]/,
      );
      expect((await df())["Unpacked Layers"]).toEqual(["1", "1", size, "0B (0%)"]);
      expect(existsSync(join(unpackedDir, layer!))).toBe(true);
    } finally {
      child.kill("SIGTERM");
      await closed;
    }
    const pruned = await ok(["system", "prune", "-f"]);
    expect(pruned).toBe(`Deleted unpacked layers: 1\n\nTotal reclaimed space: ${size}\n`);
    expect(existsSync(join(unpackedDir, layer!))).toBe(false);
    const after = await df();
    expect(after.Images?.slice(0, 2)).toEqual(["1", "0"]);
    expect(after["Unpacked Layers"]).toEqual(["0", "0", "0B", "0B"]);
  }, 180_000);

  it("counts a RUN step's cache record as active while an image uses its layer; prune -a drops it", async () => {
    const context = join(work, "context");
    await mkdir(context);
    await writeFile(join(context, "Dockerfile"), "FROM bb\nRUN echo cached > /f\n");
    await chmod(context, 0o755);
    await ok(["build", "-q", "-t", "built", context]);
    // The cache record's layer is the RUN's blob: its compressed size, as `builder du` counts it.
    const store = await ImageStore.open({ root });
    const runLayer = (await store.resolve("built")).manifest.layers[1]!;
    await store.close();
    expect((await ok(["builder", "du"])).split("\n")[1]).toMatch(
      new RegExp(`^[0-9a-f]{25} +false +${humanSize(runLayer.size)} `),
    );
    const cacheSize = humanSize(runLayer.size, 4);
    expect((await df())["Build Cache"]).toEqual(["1", "1", cacheSize, "0B"]);
    await ok(["image", "rm", "built"]);
    expect((await df())["Build Cache"]).toEqual(["1", "0", cacheSize, cacheSize]);
    const pruned = await ok(["system", "prune", "-a", "-f"]);
    expect(pruned).toMatch(/Deleted build cache objects:\n[0-9a-f]{25}\n\n/);
    expect(pruned).toMatch(/^Deleted Images:\nuntagged: bb:latest\n/);
    const empty = await df();
    expect(empty).toEqual({
      Images: ["0", "0", "0B", "0B"],
      "Build Cache": ["0", "0", "0B", "0B"],
      "Unpacked Layers": ["0", "0", "0B", "0B"],
    });
    expect((await stat(root)).isDirectory()).toBe(true);
  }, 180_000);
});
