import { type ChildProcess, execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXAMPLES,
  type ExampleEnv,
  finished,
  megabytes,
  parseTable,
  startExampleEnv,
} from "../support/examples.js";
import { freePort } from "../support/registry.js";
import { httpGet } from "../support/runc.js";
import { ok, Timings } from "../support/timings.js";

/**
 * Example 1, examples/custom-nginx: the tutorial's first image, driven through
 * bin/tsbuild as its reader drives docker. `FROM ubuntu:latest` is the local
 * Debian base, reached through tsbuild's Docker Hub mirror setting; apt-get
 * installs nginx from the host's Debian mirror. Every command's output is
 * checked against what the tutorial shows docker printing.
 */

const exec = promisify(execFile);
const CONTEXT = join(EXAMPLES, "custom-nginx");
const RUN_LINE =
  "RUN apt-get update && apt-get install nginx -y && apt-get clean && rm -rf /var/lib/apt/lists/*";
const timings = new Timings("custom-nginx");

describe("examples/custom-nginx", () => {
  let env: ExampleEnv;
  let id = "";
  const running: ChildProcess[] = [];
  const tsbuild = (...args: string[]) => env.tsbuild(args, { cwd: CONTEXT });

  beforeAll(async () => {
    env = await timings.time("base image in the mirror registry", () => startExampleEnv("custom-nginx"));
  });

  afterAll(async () => {
    for (const p of running) if (p.exitCode === null) p.kill("SIGKILL");
    await env?.close();
    timings.print();
  });

  it("build . (untagged) runs apt-get and prints the image id", async () => {
    const r = await timings.time("build . (apt-get install nginx)", () =>
      tsbuild("build", "--progress", "plain", "."),
    );
    ok("build .", r);
    // BuildKit's plain progress: the base by its full name and the digest the mirror gave.
    expect(r.stderr).toMatch(/^#1 \[1\/2\] FROM docker\.io\/library\/ubuntu:latest@sha256:[0-9a-f]{64}\n/m);
    expect(r.stderr).toContain(`#2 [2/2] ${RUN_LINE}\n`);
    expect(r.stderr).toMatch(/Setting up nginx /);
    const printed = /^Successfully built ([0-9a-f]{12})\n$/.exec(r.stdout);
    expect(printed, r.stdout).not.toBeNull();
    id = ok("inspect", await tsbuild("image", "inspect", "--format", "{{.Id}}", printed?.[1] ?? "")).trim();
    expect(id).toMatch(new RegExp(`^sha256:${printed?.[1]}[0-9a-f]{52}$`));
    // The base came through the mirror: the registry holds it as Docker Hub's library/ubuntu.
    expect(await env.mirror.logs()).toMatch(/GET \/v2\/library\/ubuntu\/manifests\/latest/);
    const ls = parseTable(ok("image ls", await tsbuild("image", "ls")));
    expect(ls.filter((row) => row["IMAGE ID"] === id.slice(7, 19))).toEqual([
      expect.objectContaining({ REPOSITORY: "<none>", TAG: "<none>" }),
    ]);
  });

  it("build --tag custom-nginx:packaged . is all cached and names the same image; tag adds a second name", async () => {
    const r = await tsbuild("build", "--tag", "custom-nginx:packaged", "--progress", "plain", ".");
    ok("build --tag", r);
    expect(r.stderr.match(/^#\d+ CACHED$/gm)).toHaveLength(2); // FROM and RUN
    expect(r.stdout).toBe(
      `Successfully built ${id.slice(7, 19)}\nSuccessfully tagged custom-nginx:packaged\n`,
    );

    expect(ok("tag", await tsbuild("tag", id.slice(7, 19), "custom-nginx:latest"))).toBe("");
    // Two names of one image: docker lists them in no particular order.
    const ls = parseTable(ok("image ls", await tsbuild("image", "ls", "custom-nginx"))).sort((a, b) =>
      (a.TAG ?? "").localeCompare(b.TAG ?? ""),
    );
    const size = ls[0]?.SIZE ?? "";
    expect(ls).toEqual([
      {
        REPOSITORY: "custom-nginx",
        TAG: "latest",
        "IMAGE ID": id.slice(7, 19),
        CREATED: expect.stringMatching(/ ago$/),
        SIZE: size,
      },
      {
        REPOSITORY: "custom-nginx",
        TAG: "packaged",
        "IMAGE ID": id.slice(7, 19),
        CREATED: expect.stringMatching(/ ago$/),
        SIZE: size,
      },
    ]);
    // The Debian base is about 120MB; nginx adds a few tens.
    const base = parseTable(ok("image ls", await tsbuild("image", "ls", "ubuntu")))[0]?.SIZE ?? "";
    expect(megabytes(size) - megabytes(base)).toBeGreaterThan(5);
    expect(megabytes(size) - megabytes(base)).toBeLessThan(100);
  });

  it("image history has a row per instruction, sizes, and <missing> for the rows below the top", async () => {
    const rows = parseTable(ok("history", await tsbuild("image", "history", "custom-nginx:packaged")));
    expect(rows.map((r) => [r.IMAGE, r["CREATED BY"], r.COMMENT])).toEqual([
      [id.slice(7, 19), 'CMD ["nginx" "-g" "daemon off;"]', "buildkit.dockerfile.v0"],
      ["<missing>", "RUN /bin/sh -c apt-get update && apt-get ins…", "buildkit.dockerfile.v0"],
      ["<missing>", "EXPOSE [80/tcp]", "buildkit.dockerfile.v0"],
      ["<missing>", "", "Imported from -"],
    ]);
    const mb = expect.stringMatching(/^\d+(\.\d+)?MB$/);
    expect(rows.map((r) => r.SIZE)).toEqual(["0B", mb, "0B", mb]);
    expect(rows.every((r) => / ago$/.test(r.CREATED ?? ""))).toBe(true);
  });

  it("run --rm -p PORT:80 serves nginx's default page on the host's port; SIGTERM stops it", async () => {
    const port = await freePort();
    const nginx = env.spawnTsbuild(["run", "--rm", "-p", `${port}:80`, "custom-nginx:packaged"]);
    running.push(nginx);
    const exited = finished(nginx);
    const page = await timings.time("run -p: nginx answers", () => httpGet(`http://127.0.0.1:${port}/`));
    expect(page).toContain("<title>Welcome to nginx!</title>");
    nginx.kill("SIGTERM");
    const r = await exited;
    // The signal reached nginx (pid 1 in the container), which shut down cleanly: run exits with its code.
    expect([r.code, r.stderr]).toEqual([0, ""]);
    await expect(exec("curl", ["-fsS", "--max-time", "5", `http://127.0.0.1:${port}/`])).rejects.toThrow();
  });

  it("image rm untags, then deletes with the last name; image prune --force finds nothing dangling", async () => {
    expect(ok("rm latest", await tsbuild("image", "rm", "custom-nginx:latest"))).toBe(
      "Untagged: custom-nginx:latest\n",
    );
    const rm = ok("rm packaged", await tsbuild("image", "rm", "custom-nginx:packaged"));
    expect(rm).toMatch(
      new RegExp(`^Untagged: custom-nginx:packaged\nDeleted: ${id}\n(Deleted: sha256:[0-9a-f]{64}\n)*$`),
    );
    expect(ok("image ls", await tsbuild("image", "ls", "custom-nginx"))).toMatch(
      /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n$/,
    );
    const missing = await tsbuild("image", "inspect", id);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No such image: ${id}`);
    expect(ok("prune", await tsbuild("image", "prune", "--force"))).toBe("Total reclaimed space: 0B\n");
  });
});
