import { type ChildProcess, execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXAMPLES,
  type ExampleEnv,
  finished,
  megabytes,
  nginxSourceTarball,
  parseTable,
  startExampleEnv,
  truncated,
} from "../support/examples.js";
import { type FileServer, serveFiles } from "../support/file-server.js";
import { freePort, startRegistry, TEST_USER, type TestRegistry } from "../support/registry.js";
import { httpGet, prepareBundle, type RuncContainer, runDetached } from "../support/runc.js";
import { ok, Timings } from "../support/timings.js";

const exec = promisify(execFile);

/**
 * Example 2, examples/custom-nginx-built: nginx compiled from Debian's source
 * tarball (served here on a loopback port; ADD fetches it), first one step per
 * layer (Dockerfile.built), then in a single RUN that purges the build
 * dependencies (Dockerfile.slim) under the same tag: `image ls` shows the size
 * drop and the old image dangling, `image prune --force` removes it. Then
 * example 4, sharing: login to a token-auth registry, build and push
 * REGISTRY/USER/custom-nginx:latest, pull it back with skopeo, unpack it with
 * umoci and run it with runc.
 */

const CONTEXT = join(EXAMPLES, "custom-nginx-built");
const timings = new Timings("custom-nginx-built");

describe("examples/custom-nginx-built, then sharing it through a registry", () => {
  let env: ExampleEnv;
  let source: FileServer;
  let registry: TestRegistry;
  let layeredId = "";
  let layeredSize = "";
  const containers: RuncContainer[] = [];
  const running: ChildProcess[] = [];
  const tsbuild = (...args: string[]) => env.tsbuild(args, { cwd: CONTEXT });
  const downloads = () => `DOWNLOADS=${source.url}`;

  beforeAll(async () => {
    env = await timings.time("base image in the mirror registry", () => startExampleEnv("nginx-built"));
    source = await serveFiles({ "nginx-1.22.1.tar.gz": await nginxSourceTarball() });
  });

  afterAll(async () => {
    for (const c of containers) await c.remove().catch(() => {});
    for (const p of running) if (p.exitCode === null) p.kill("SIGKILL");
    await source?.close();
    await registry?.stop();
    await env?.close();
    timings.print();
  });

  it("Dockerfile.built: ADD fetches the source from the ARG-built URL; configure, make, make install", async () => {
    const r = await timings.time("build Dockerfile.built (apt build deps, compile)", () =>
      tsbuild(
        "build",
        "--tag",
        "custom-nginx:built",
        "--file",
        "Dockerfile.built",
        "--build-arg",
        downloads(),
        "--progress",
        "plain",
        ".",
      ),
    );
    ok("build Dockerfile.built", r);
    expect(source.requests).toContain("/nginx-1.22.1.tar.gz");
    expect(r.stderr).toMatch(/Setting up build-essential /);
    expect(r.stderr).toMatch(/nginx-1\.22\.1\/configure\n/); // tar -xvf lists the files
    expect(r.stderr).toMatch(/Configuration summary/);
    expect(r.stdout).toMatch(/Successfully tagged custom-nginx:built\n$/);
    layeredId = ok(
      "inspect",
      await tsbuild("image", "inspect", "--format", "{{.Id}}", "custom-nginx:built"),
    ).trim();

    const rows = parseTable(ok("history", await tsbuild("image", "history", "custom-nginx:built")));
    const run = (args: string) =>
      `RUN |3 DOWNLOADS=${source.url} FILENAME=nginx-1.22.1 EXTENSION=tar.gz /bin/sh -c ${args}`;
    expect(rows.map((row) => row["CREATED BY"])).toEqual(
      [
        'CMD ["nginx" "-g" "daemon off;"]',
        run("rm -rf /nginx-1.22.1"),
        run("cd nginx-1.22.1 &&     ./configure         --sbin-path=/usr/bin/nginx"),
        run("tar -xvf nginx-1.22.1.tar.gz && rm nginx-1.22.1.tar.gz"),
        "ADD http://127.0.0.1:PORT/nginx-1.22.1.tar.gz . # buildkit".replace(
          "http://127.0.0.1:PORT",
          source.url,
        ),
        "ARG EXTENSION=tar.gz",
        "ARG FILENAME=nginx-1.22.1",
        // BuildKit records the value in effect: the --build-arg's, not the Dockerfile's default.
        `ARG DOWNLOADS=${source.url}`,
        "RUN /bin/sh -c apt-get update &&     apt-get install build-essential",
        "EXPOSE [80/tcp]",
        "",
      ].map(truncated),
    );
    expect(rows.map((row) => row.IMAGE)).toEqual([layeredId.slice(7, 19), ...Array(10).fill("<missing>")]);
    const sizes = rows.map((row) => megabytes(row.SIZE ?? ""));
    // The build dependencies' layer is the big one; the extracted source and the build tree stay in theirs.
    expect(sizes[8]).toBeGreaterThan(150);
    expect(sizes[3]).toBeGreaterThan(5);
    layeredSize =
      parseTable(ok("image ls", await tsbuild("image", "ls", "custom-nginx:built")))[0]?.SIZE ?? "";
  });

  it("Dockerfile.slim under the same tag: one RUN layer without the build deps; image ls shows the drop and the old image dangling", async () => {
    const r = await timings.time("build Dockerfile.slim (apt, compile, purge)", () =>
      tsbuild(
        "build",
        "--tag",
        "custom-nginx:built",
        "--file",
        "Dockerfile.slim",
        "--build-arg",
        downloads(),
        "--progress",
        "plain",
        ".",
      ),
    );
    ok("build Dockerfile.slim", r);
    expect(r.stderr).toMatch(/Removing build-essential /);
    const slimId = ok(
      "inspect",
      await tsbuild("image", "inspect", "--format", "{{.Id}}", "custom-nginx:built"),
    ).trim();
    expect(slimId).not.toBe(layeredId);

    const ls = parseTable(ok("image ls", await tsbuild("image", "ls")));
    const built = ls.find((row) => row.REPOSITORY === "custom-nginx" && row.TAG === "built");
    const dangling = ls.find((row) => row["IMAGE ID"] === layeredId.slice(7, 19));
    expect(dangling).toMatchObject({ REPOSITORY: "<none>", TAG: "<none>", SIZE: layeredSize });
    expect(built).toMatchObject({ "IMAGE ID": slimId.slice(7, 19) });
    const base = megabytes(ls.find((row) => row.REPOSITORY === "ubuntu")?.SIZE ?? "");
    // What the slim image adds to the base is nginx and its few runtime libraries; the layered one adds gcc & co.
    const slimAdds = megabytes(built?.SIZE ?? "") - base;
    console.log(`custom-nginx-built: image ls: layered ${layeredSize}, slim ${built?.SIZE}, base ${base}MB`);
    const layeredAdds = megabytes(layeredSize) - base;
    expect(slimAdds).toBeGreaterThan(1);
    expect(slimAdds).toBeLessThan(40);
    expect(layeredAdds).toBeGreaterThan(5 * slimAdds);

    const rows = parseTable(ok("history", await tsbuild("image", "history", "custom-nginx:built")));
    expect(rows).toHaveLength(8); // CMD, RUN, ADD, 3 ARG, EXPOSE, the base
    expect(megabytes(rows[1]?.SIZE ?? "")).toBeLessThan(40);
  });

  it("the slim image still runs (run --rm -p): nginx serves its page with the build deps gone", async () => {
    const port = await freePort();
    const nginx = env.spawnTsbuild(["run", "--rm", "-p", `${port}:80`, "custom-nginx:built"]);
    running.push(nginx);
    const exited = finished(nginx);
    expect(await httpGet(`http://127.0.0.1:${port}/`)).toContain("<title>Welcome to nginx!</title>");
    nginx.kill("SIGTERM");
    expect((await exited).code).toBe(0);
    // No compiler left, and the command name docker users type runs nothing.
    const gcc = await env.tsbuild(["run", "--rm", "custom-nginx:built", "gcc", "--version"]);
    expect(gcc.code).toBe(127);
  });

  it("image prune --force removes the dangling image and reports the space reclaimed", async () => {
    const out = ok("prune", await tsbuild("image", "prune", "--force"));
    // The dangling image's layers are still the build cache's (the next test's rebuild of
    // Dockerfile.built is all cached), so, as with docker and BuildKit, the space is only
    // reclaimed by `builder prune`: the total may well be 0B.
    expect(out).toMatch(
      new RegExp(
        `^Deleted Images:\ndeleted: ${layeredId}\n(deleted: sha256:[0-9a-f]{64}\n)*\nTotal reclaimed space: \\d+(\\.\\d+)?[kMG]?B\n$`,
      ),
    );
    const ls = parseTable(ok("image ls", await tsbuild("image", "ls")));
    expect(ls.filter((row) => row.REPOSITORY === "<none>")).toEqual([]);
    expect(ls.map((row) => `${row.REPOSITORY}:${row.TAG}`).sort()).toEqual([
      "custom-nginx:built",
      "ubuntu:latest",
    ]);
    const again = ok("prune again", await tsbuild("image", "prune", "--force"));
    expect(again).toBe("Total reclaimed space: 0B\n");
  });

  it("sharing: login with token auth, build REGISTRY/USER/custom-nginx:latest from Dockerfile.built, push", async () => {
    registry = await startRegistry({ auth: "token" });
    const login = (password: string) =>
      env.tsbuild(["login", "--username", TEST_USER.username, "--password-stdin", registry.host], {
        stdin: `${password}\n`,
      });
    const wrong = await login("not-the-password");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/incorrect username or password/);
    expect(ok("login", await login(TEST_USER.password))).toBe("Login Succeeded\n");
    const auths = JSON.parse(await readFile(join(env.env.DOCKER_CONFIG ?? "", "config.json"), "utf8")).auths;
    expect(Object.keys(auths)).toEqual([registry.host]);

    const ref = `${registry.host}/${TEST_USER.username}/custom-nginx:latest`;
    const built = await timings.time("build Dockerfile.built again, tagged for the registry", () =>
      tsbuild(
        "build",
        "--tag",
        ref,
        "--file",
        "Dockerfile.built",
        "--build-arg",
        downloads(),
        "--progress",
        "plain",
        ".",
      ),
    );
    ok("build for the registry", built);
    // Every step cached: image prune removed the image, not the build cache.
    // FROM, RUN apt-get, ADD, RUN tar, RUN make, RUN rm.
    expect(built.stderr.match(/^#\d+ CACHED$/gm)).toHaveLength(6);
    expect(built.stdout).toMatch(new RegExp(`Successfully tagged ${ref.replaceAll(".", "\\.")}\n$`));

    const push = await timings.time("push", () => tsbuild("push", ref));
    const out = ok("push", push);
    // docker push's lines: the repository, a Preparing and a Pushed per layer, the digest.
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `The push refers to repository [${registry.host}/${TEST_USER.username}/custom-nginx]`,
    );
    const layers: number = JSON.parse(
      ok("inspect", await tsbuild("image", "inspect", "--format", "{{json .RootFS.Layers}}", ref)),
    ).length;
    const pushed = lines.filter((l) => /^[0-9a-f]{12}: Pushed$/.test(l));
    expect(pushed).toHaveLength(layers);
    expect(lines.filter((l) => /^[0-9a-f]{12}: Preparing$/.test(l))).toHaveLength(layers);
    expect(lines.at(-1)).toMatch(/^latest: digest: sha256:[0-9a-f]{64} size: \d+$/);
    expect(
      registry.tokenServer?.requests.some(
        (q) => q.account === TEST_USER.username && q.scopes.some((s) => s.endsWith(":pull,push")),
      ),
    ).toBe(true);
  });

  it("sharing: skopeo copies it back with the credentials login stored; umoci unpacks it and runc runs nginx", async () => {
    const ref = `${registry.host}/${TEST_USER.username}/custom-nginx:latest`;
    const layout = join(env.work, "pulled");
    await timings.time("skopeo copy", () =>
      exec("skopeo", [
        "copy",
        "--authfile",
        join(env.env.DOCKER_CONFIG ?? "", "config.json"),
        "--src-tls-verify=false",
        `docker://${ref}`,
        `oci:${layout}:latest`,
      ]),
    );
    const bundle = join(env.work, "pulled-bundle");
    await exec("umoci", ["unpack", "--image", `${layout}:latest`, bundle]);
    expect(await prepareBundle(bundle)).toEqual(["nginx", "-g", "daemon off;"]);
    const nginx = await runDetached(bundle, env.work, "e2e-nginx-pulled");
    containers.push(nginx);
    expect(await httpGet("http://127.0.0.1:80/", { netnsOf: nginx.pid })).toContain(
      "<title>Welcome to nginx!</title>",
    );
    // The build tree was removed in its own layer: the files are gone from the image that runs.
    await expect(readFile(join(bundle, "rootfs/nginx-1.22.1/configure"))).rejects.toThrow(/ENOENT/);
    await nginx.remove();
  });
});
