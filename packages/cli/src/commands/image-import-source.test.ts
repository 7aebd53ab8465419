import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { makeTree, tsb } from "./__fixtures__/image.js";
import { DEFAULT_IMPORT_MAX_SIZE, formatByteSize, parseByteSize } from "./image-import-limit.js";

const MAIN = join(import.meta.dirname, "..", "..", "dist", "main.js");

/** LIMIT is how long a spawned import may take before it counts as hung (and is killed). */
const LIMIT = 20_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** tsbuildProcess runs the built `tsbuild` as a real process, killed after LIMIT ms, so a hang fails the test instead of stalling it. */
async function tsbuildProcess(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: Buffer } = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
    timeout: LIMIT,
    killSignal: "SIGKILL",
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c;
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c;
  });
  if (options.stdin) {
    child.stdin?.on("error", () => {}); // the child may stop reading early
    child.stdin?.end(options.stdin);
  }
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr } satisfies Exit;
}

/** blobFiles lists the store's blobs and temp files, to show nothing was kept. */
async function blobFiles(root: string): Promise<string[]> {
  const all = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return all.filter((p) => p.startsWith("blobs/sha256/") || p.startsWith(".tmp/"));
}

/** gzipBomb makes a gzip tarball of one file of `mib` MiB of zeros: ~1000x smaller than what it expands to. */
async function gzipBomb(mib: number): Promise<string> {
  const dir = await tempDir();
  execFileSync("truncate", ["-s", `${mib}M`, join(dir, "zeros")]);
  const out = join(await tempDir(), "bomb.tar.gz");
  execFileSync("sh", ["-c", 'tar -C "$1" -cf - zeros | gzip -1 > "$2"', "sh", dir, out]);
  return out;
}

describe("image import of a source that is not a file, directory, URL or -", () => {
  it.each([
    [
      "a FIFO with no writer",
      async () => {
        const fifo = join(await tempDir(), "pipe");
        execFileSync("mkfifo", [fifo]);
        return fifo;
      },
      "a FIFO (named pipe)",
    ],
    ["/dev/zero", async () => "/dev/zero", "a character device"],
  ])("refuses %s at once, naming the path and its type, and stores nothing", async (_n, make, kind) => {
    const source = await make();
    const root = await tempDir();
    const r = await tsbuildProcess(["--root", root, "import", source, "x:1"]);
    expect(r.signal).toBeNull(); // not killed as hung
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `Error: ${source}: import source is ${kind}; give a tarball file, a directory, an http(s) URL, or - to read a tarball from stdin\n`,
    );
    expect((await tsb(root, ["images", "-a", "-q"])).stdout).toBe("");
    expect(await blobFiles(root)).toEqual([]);
  });

  it("still imports a FIFO's tarball given as - (stdin)", async () => {
    const root = await tempDir();
    const tar = execFileSync("tar", ["-C", await makeTree(), "-cf", "-", "."]);
    const r = await tsbuildProcess(["--root", root, "import", "-", "piped:1"], { stdin: tar });
    expect(r).toMatchObject({ code: 0, signal: null, stderr: "" });
  });
});

describe("image import of a gzip bomb", () => {
  it("fails once the tarball expands past --max-size, exit 1, nothing stored", async () => {
    const bomb = await gzipBomb(64);
    expect((await readFile(bomb)).length).toBeLessThan(1 << 20);
    const root = await tempDir();
    const r = await tsbuildProcess(["--root", root, "import", "--max-size", "16MiB", bomb, "bomb:1"]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `Error: ${bomb}: tarball expands to more than 16MiB uncompressed, the import limit (raise it with --max-size or TSBUILD_IMPORT_MAX_SIZE)\n`,
    );
    expect((await tsb(root, ["images", "-a", "-q"])).stdout).toBe("");
    expect(await blobFiles(root)).toEqual([]);
  });

  it("takes the limit from TSBUILD_IMPORT_MAX_SIZE for stdin too; under the limit it imports", async () => {
    const bomb = await readFile(await gzipBomb(64));
    const root = await tempDir();
    const env = { ...process.env, TSBUILD_IMPORT_MAX_SIZE: "8m" };
    const r = await tsbuildProcess(["--root", root, "import", "-", "bomb:1"], { env, stdin: bomb });
    expect(r).toMatchObject({ code: 1, signal: null });
    expect(r.stderr).toContain("stdin: tarball expands to more than 8MiB uncompressed");
    expect(await blobFiles(root)).toEqual([]);
    // The flag wins over the variable.
    const ok = await tsbuildProcess(["--root", root, "import", "--max-size", "65m", "-", "bomb:1"], {
      env,
      stdin: bomb,
    });
    expect(ok).toMatchObject({ code: 0, signal: null, stderr: "" });
  });

  it.each(["0", "-5", "12 parsecs", ""])("rejects --max-size %j as a usage error", async (v) => {
    const r = await tsb(await tempDir(), ["import", "--max-size", v, await makeTree(), "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--max-size must be a positive size");
  });

  it("reads sizes as docker writes them; the default is 64GiB", () => {
    expect(DEFAULT_IMPORT_MAX_SIZE).toBe(parseByteSize("64GiB", "x"));
    expect(parseByteSize("64g", "x")).toBe(64 * 1024 ** 3);
    expect(parseByteSize("1KB", "x")).toBe(1000);
    expect(parseByteSize("123", "x")).toBe(123);
    expect(formatByteSize(1536 * 1024)).toBe("1536KiB");
    expect(formatByteSize(1000)).toBe("1000B");
  });
});
