import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, tsb } from "./__fixtures__/image.js";

const MAIN = join(import.meta.dirname, "..", "..", "dist", "main.js");

/**
 * issue 7, item 5: the temp blob and lease file of a `load` killed with
 * SIGKILL stayed behind through a successful retry and `image prune -f`.
 * Every write command now first removes the temp files and leases of
 * processes that are gone.
 */
describe("debris of killed processes", () => {
  let archive: string;

  beforeAll(async () => {
    const src = await tempDir();
    const tree = await tempDir();
    await writeFile(join(tree, "noise"), randomBytes(48 << 20));
    expect((await tsb(src, ["import", tree, "big:1"])).code).toBe(0);
    archive = join(await tempDir(), "big.tar");
    expect((await tsb(src, ["save", "-o", archive, "big:1"])).code).toBe(0);
  });

  /** killedLoad starts `load -i` of the big archive, SIGKILLs it while it writes the layer, and returns its pid. */
  async function killedLoad(root: string): Promise<number> {
    const child = spawn(process.execPath, [MAIN, "--root", root, "load", "-i", archive], { stdio: "ignore" });
    const exited = once(child, "exit");
    const pid = child.pid!;
    const tmp = (): string[] => {
      try {
        return readdirSync(join(root, ".tmp"));
      } catch {
        return [];
      }
    };
    for (;;) {
      if (tmp().some((n) => n.startsWith(`blob-${pid}-`))) break;
      if (child.exitCode !== null) throw new Error("load ended before it could be killed");
      await sleep(1);
    }
    child.kill("SIGKILL");
    expect((await exited)[1]).toBe("SIGKILL");
    return pid;
  }

  const debrisOf = async (root: string, pid: number) =>
    (await readdir(join(root, ".tmp"))).filter((n) => n.includes(`-${pid}-`)).sort();

  it("a retried load removes the killed load's temp blob and lease", async () => {
    const root = await tempDir();
    await importTree(root, "small:1");
    const pid = await killedLoad(root);
    expect((await debrisOf(root, pid)).map((n) => n.split("-")[0])).toEqual(["blob", "lease"]);
    const r = await tsb(root, ["load", "-i", archive]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Loaded image: big:1\n");
    expect(await debrisOf(root, pid)).toEqual([]);
  });

  it("image prune -f removes them, even with nothing to prune", async () => {
    const root = await tempDir();
    await importTree(root, "small:1");
    const pid = await killedLoad(root);
    expect(await debrisOf(root, pid)).toHaveLength(2);
    const r = await tsb(root, ["image", "prune", "-f"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(await debrisOf(root, pid)).toEqual([]);
  });
});
