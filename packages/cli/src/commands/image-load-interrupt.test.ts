import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, tsb } from "./__fixtures__/image.js";

const MAIN = join(import.meta.dirname, "..", "..", "dist", "main.js");

describe("load interrupted by Ctrl-C", () => {
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
});
