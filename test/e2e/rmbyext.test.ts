import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES, type ExampleEnv, parseTable, startExampleEnv, truncated } from "../support/examples.js";
import { ok, type ProcessResult, Timings } from "../support/timings.js";

/**
 * Example 3, examples/rmbyext: an executable image. A small Python command from
 * the build context, installed with pip on the Debian base with python3 from
 * apt; WORKDIR /zone, ENTRYPOINT ["rmbyext"]. Run with a host directory at
 * /zone and extensions as arguments, it deletes exactly the matching files.
 */

const CONTEXT = join(EXAMPLES, "rmbyext");
const timings = new Timings("rmbyext");

describe("examples/rmbyext", () => {
  let env: ExampleEnv;
  const tsbuild = (...args: string[]) => env.tsbuild(args, { cwd: CONTEXT });

  /** rmbyext runs the image as the tutorial does: `run --rm -v DIR:/zone rmbyext ARGS`. */
  const rmbyext = (dir: string, args: string[]): Promise<ProcessResult> =>
    tsbuild("run", "--rm", "-v", `${dir}:/zone`, "rmbyext", ...args);

  beforeAll(async () => {
    env = await timings.time("base image in the mirror registry", () => startExampleEnv("rmbyext"));
  });

  afterAll(async () => {
    await env?.close();
    timings.print();
  });

  it("builds: apt installs python3 and pip, pip installs the command from the context", async () => {
    const r = await timings.time("build (apt python3, pip install)", () =>
      tsbuild("build", "--tag", "rmbyext", "--progress", "plain", "."),
    );
    ok("build", r);
    expect(r.stderr).toMatch(/Setting up python3-pip /);
    expect(r.stderr).toMatch(/Successfully installed rmbyext-1\.0\.0/);
    expect(r.stdout).toMatch(/Successfully tagged rmbyext:latest\n$/);
    const rows = parseTable(ok("history", await tsbuild("image", "history", "rmbyext")));
    expect(rows.map((row) => row["CREATED BY"])).toEqual(
      [
        'ENTRYPOINT ["rmbyext"]',
        "WORKDIR /zone",
        "RUN /bin/sh -c pip install --no-index --no-build-isolation --break-system-packages /src && rm -rf /src",
        "COPY . /src # buildkit",
        "RUN /bin/sh -c apt-get update &&     apt-get install python3 python3-pip -y --no-install-recommends",
        "",
      ].map(truncated),
    );
    // ENTRYPOINT resets the CMD ["bash"] the base has, as docker does.
    const config = JSON.parse(
      ok("inspect", await tsbuild("image", "inspect", "--format", "{{json .Config}}", "rmbyext")),
    );
    expect(config).toMatchObject({ Entrypoint: ["rmbyext"], WorkingDir: "/zone" });
    expect(config.Cmd ?? null).toBeNull();
  });

  it("run with a directory at /zone deletes exactly the files with the given extensions", async () => {
    const zone = join(env.work, "zone");
    await mkdir(join(zone, "nested"), { recursive: true });
    await mkdir(join(zone, "folder.pdf"));
    const files = [
      "report.pdf",
      "slides.pdf",
      "notes.tmp",
      "keep.txt",
      "archive.pdf.gz",
      "README",
      "UPPER.PDF",
    ];
    for (const f of [...files, "nested/inner.pdf"]) await writeFile(join(zone, f), `${f}\n`);
    await symlink("keep.txt", join(zone, "link.pdf"));

    const r = await timings.time("run rmbyext pdf tmp", () => rmbyext(zone, ["pdf", ".tmp"]));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Removing: notes.tmp\nRemoving: report.pdf\nRemoving: slides.pdf\n");
    expect((await readdir(zone)).sort()).toEqual(
      ["README", "UPPER.PDF", "archive.pdf.gz", "folder.pdf", "keep.txt", "link.pdf", "nested"].sort(),
    );
    expect(await readdir(join(zone, "nested"))).toEqual(["inner.pdf"]);
  });

  it("passes its exit code through: nothing to remove is 0, no arguments is a usage error (2)", async () => {
    const zone = join(env.work, "zone");
    const none = await rmbyext(zone, ["doc"]);
    expect([none.code, none.stdout]).toEqual([0, ""]);
    const usage = await rmbyext(zone, []);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe("Usage: rmbyext EXT [EXT...]\n");
  });
});
