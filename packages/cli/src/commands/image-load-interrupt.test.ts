import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, tsb } from "./__fixtures__/image.js";

const MAIN = join(import.meta.dirname, "..", "..", "dist", "main.js");

describe("load and save interrupted by Ctrl-C", () => {
  it("while stdin is still arriving: exits 130, leaves no spool file in TMPDIR and nothing in the store", async () => {
    const src = await tempDir();
    await importTree(src, "app:1");
    const tarPath = join(await tempDir(), "app.tar");
    expect((await tsb(src, ["save", "-o", tarPath, "app:1"])).code).toBe(0);
    const tar = await readFile(tarPath);

    const root = await tempDir();
    const tmp = await tempDir();
    const child = spawn(process.execPath, [MAIN, "--root", root, "load"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, TMPDIR: tmp },
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    child.stdin.on("error", () => {}); // the child may close its end first
    // Half the archive, then wait until the spool file holds it: the load is now waiting for the rest.
    child.stdin.write(tar.subarray(0, tar.length >> 1));
    for (;;) {
      const spools = await readdir(tmp);
      const spool = spools[0];
      if (spool !== undefined) {
        const files = await readdir(join(tmp, spool)).catch(() => []);
        if (files.length > 0) break;
      }
      if (child.exitCode !== null) throw new Error(`load ended early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100));
    const exited = once(child, "exit");
    child.kill("SIGINT");
    const [code] = await exited;
    expect(code).toBe(130);
    expect(stderr).toBe("Error: interrupted\n");
    expect(await readdir(tmp)).toEqual([]);
    expect((await tsb(root, ["images", "-a", "-q"])).stdout).toBe("");
  });

  it("save blocked on a full stdout pipe: exits 130 with docker's status, not killed mid-write", async () => {
    const root = await tempDir();
    // Incompressible, so the archive is far larger than a pipe's buffer.
    const big = await tempDir();
    await writeFile(join(big, "noise"), randomBytes(4 << 20));
    expect((await tsb(root, ["image", "import", big, "big:1"])).code).toBe(0);
    const child = spawn(process.execPath, [MAIN, "--root", root, "save", "big:1"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    // Read the first chunk only, then stop reading: the save now waits on the pipe.
    await once(child.stdout, "data");
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    const exited = once(child, "exit");
    child.kill("SIGINT");
    const [code] = await exited;
    expect(code).toBe(130);
    expect(stderr).toBe("Error: interrupted\n");
  });
});
