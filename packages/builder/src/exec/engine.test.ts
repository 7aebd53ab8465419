import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageStore, pathToBytes, readLayerEntries } from "@tsbuild/oci";
import { afterEach, describe, expect, it } from "vitest";
import { isBuildError } from "../errors.js";
import { executeBuild as build } from "./engine.js";
import { addBaseImage, layerEntries, writeTree } from "./testing.js";
import type { BuildEvent, BuildOptions } from "./types.js";

const cleanup: string[] = [];
const stores: ImageStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of cleanup.splice(0)) await rm(d, { recursive: true, force: true });
});

async function newStore(): Promise<ImageStore> {
  const root = await mkdtemp(join(tmpdir(), "tsbuild-engine-"));
  cleanup.push(root);
  const store = await ImageStore.open({ root });
  stores.push(store);
  await addBaseImage(store, "golden/busybox:1");
  return store;
}

async function ctx(files: Record<string, string | { link: string }>): Promise<string> {
  const d = await writeTree(files);
  cleanup.push(d);
  return d;
}

async function run(
  store: ImageStore,
  dockerfile: string,
  contextDir: string,
  extra: Partial<BuildOptions> = {},
) {
  const events: BuildEvent[] = [];
  const r = await build({ store, dockerfile, contextDir, onEvent: (e) => events.push(e), ...extra });
  await r.lease.release();
  const cached = events.filter((e) => e.type === "cached").map((e) => (e as { id: number }).id);
  const steps = events.filter((e) => e.type === "step") as Extract<BuildEvent, { type: "step" }>[];
  // A base image from the store is always CACHED; cachedSteps are the Dockerfile's own steps.
  const own = steps.filter((s) => !s.text.startsWith("FROM "));
  return { r, steps, cachedSteps: own.filter((s) => cached.includes(s.id)).map((s) => s.text) };
}

const DF = [
  "FROM golden/busybox:1",
  "WORKDIR /app",
  "COPY a.txt ./",
  "COPY lib/ ./lib/",
  "ENV MODE=prod",
  'CMD ["cat", "/app/a.txt"]',
].join("\n");

describe("build: COPY and metadata onto a base", () => {
  it("writes layers holding only what changed, parents with the base's metadata", async () => {
    const store = await newStore();
    const dir = await ctx({ Dockerfile: DF, "a.txt": "hello\n", "lib/x.js": "x", "lib/sub/y.js": "yy" });
    const { r } = await run(store, DF, dir);
    expect(r.manifest.layers).toHaveLength(4);
    expect(await layerEntries(store, r.manifest.layers[1]!.digest)).toEqual([
      { path: "app", type: "dir", mode: "755", uid: 0, gid: 0 },
    ]);
    expect(await layerEntries(store, r.manifest.layers[2]!.digest)).toEqual([
      { path: "app", type: "dir", mode: "755", uid: 0, gid: 0 },
      { path: "app/a.txt", type: "file", mode: "644", uid: 0, gid: 0, size: 6 },
    ]);
    expect((await layerEntries(store, r.manifest.layers[3]!.digest)).map((e) => e.path)).toEqual([
      "app",
      "app/lib",
      "app/lib/sub",
      "app/lib/sub/y.js",
      "app/lib/x.js",
    ]);
    expect(r.config.config?.WorkingDir).toBe("/app");
    expect(r.config.config?.Env).toContain("MODE=prod");
    expect(r.config.history?.slice(1).map((h) => [h.created_by, h.empty_layer ?? false])).toEqual([
      ["WORKDIR /app", false],
      ["COPY a.txt ./ # buildkit", false],
      ["COPY lib/ ./lib/ # buildkit", false],
      ["ENV MODE=prod", true],
      ['CMD ["cat" "/app/a.txt"]', true],
    ]);
  });

  it("names steps as BuildKit does: [stage i/n] with FROM counted, config instructions not shown", async () => {
    const store = await newStore();
    const dir = await ctx({ Dockerfile: DF, "a.txt": "hello\n", "lib/x.js": "x" });
    const { steps } = await run(store, DF, dir);
    const base = steps[0]!.text.slice("FROM ".length);
    expect(base).toMatch(/^docker\.io\/golden\/busybox:1@sha256:[0-9a-f]{64}$/);
    expect(steps.map((s) => s.name)).toEqual([
      `[1/4] FROM ${base}`,
      "[2/4] WORKDIR /app",
      "[3/4] COPY a.txt ./",
      "[4/4] COPY lib/ ./lib/",
    ]);
    const multi = [
      "FROM scratch AS Build",
      "COPY a.txt /a.txt",
      "FROM golden/busybox:1",
      "ENV X=1",
      "WORKDIR /",
      ...Array.from({ length: 9 }, (_, i) => `WORKDIR /w${i}`),
      "COPY --from=build /a.txt /",
    ].join("\n");
    const names = (await run(store, multi, dir)).steps.map((s) => s.name);
    expect(names[0]).toBe("[build 1/1] COPY a.txt /a.txt");
    expect(names.slice(1, 3)).toEqual([`[stage-1  1/12] FROM ${base}`, "[stage-1  2/12] WORKDIR /w0"]);
    // WORKDIR / counts but is no vertex (BuildKit's dispatchWorkdir), so the last is 11 of 12.
    expect(names.at(-1)).toBe("[stage-1 11/12] COPY --from=build /a.txt /");
  });

  it("hits the cache on every step of a rebuild and writes no blob", async () => {
    const store = await newStore();
    const dir = await ctx({ Dockerfile: DF, "a.txt": "hello\n", "lib/x.js": "x" });
    const first = await run(store, DF, dir);
    const blobs = (await readdir(join(store.root, "blobs", "sha256"))).sort();
    const second = await run(store, DF, dir);
    expect(second.cachedSteps).toEqual(["WORKDIR /app", "COPY a.txt ./", "COPY lib/ ./lib/"]);
    expect(second.r.configDigest).toBe(first.r.configDigest);
    expect((await readdir(join(store.root, "blobs", "sha256"))).sort()).toEqual(blobs);
  });

  it("rebuilds exactly the steps that read a changed file, and what follows them", async () => {
    const store = await newStore();
    const dir = await ctx({ Dockerfile: DF, "a.txt": "hello\n", "lib/x.js": "x" });
    await run(store, DF, dir);
    await writeFile(join(dir, "lib/x.js"), "changed");
    const second = await run(store, DF, dir);
    expect(second.cachedSteps).toEqual(["WORKDIR /app", "COPY a.txt ./"]);
  });

  it("is reproducible with SOURCE_DATE_EPOCH: two stores, same image id", async () => {
    const dir = await ctx({ Dockerfile: DF, "a.txt": "hello\n", "lib/x.js": "x" });
    const a = await run(await newStore(), DF, dir, { buildArgs: { SOURCE_DATE_EPOCH: "1700000000" } });
    const b = await run(await newStore(), DF, dir, { buildArgs: { SOURCE_DATE_EPOCH: "1700000000" } });
    expect(a.r.configDigest).toBe(b.r.configDigest);
    expect(a.r.manifestDigest).toBe(b.r.manifestDigest);
    expect(a.r.config.created).toBe("2023-11-14T22:13:20Z");
  });

  it("resolves --chown names in the image and keeps existing parents' owners", async () => {
    const store = await newStore();
    const df = "FROM golden/busybox:1\nCOPY --chown=app:staff --chmod=600 a.txt /home/app/\n";
    const dir = await ctx({ Dockerfile: df, "a.txt": "a" });
    const { r } = await run(store, df, dir);
    expect(await layerEntries(store, r.manifest.layers[1]!.digest)).toEqual([
      { path: "home", type: "dir", mode: "755", uid: 0, gid: 0 },
      { path: "home/app", type: "dir", mode: "750", uid: 1000, gid: 1000 },
      { path: "home/app/a.txt", type: "file", mode: "600", uid: 1000, gid: 50, size: 1 },
    ]);
  });

  it("copies from another stage, keeping its owners, and follows a symlinked destination", async () => {
    const store = await newStore();
    const df = [
      "FROM golden/busybox:1 AS one",
      "COPY --chown=7:8 a.txt /out/a.txt",
      "FROM scratch AS unused",
      "COPY nope /nope",
      "FROM golden/busybox:1",
      "COPY --from=one /out/ /var/run/data/",
    ].join("\n");
    const dir = await ctx({ Dockerfile: df, "a.txt": "a" });
    const { r } = await run(store, df, dir);
    expect(await layerEntries(store, r.manifest.layers[1]!.digest)).toEqual([
      { path: "run", type: "dir", mode: "755", uid: 0, gid: 0 },
      { path: "run/data", type: "dir", mode: "755", uid: 0, gid: 0 },
      { path: "run/data/a.txt", type: "file", mode: "644", uid: 7, gid: 8, size: 1 },
    ]);
  });

  it("keeps symlinks inside a copied directory and follows a symlink named as the source", async () => {
    const store = await newStore();
    const df = "FROM scratch\nCOPY d/ /d/\nCOPY link /f\n";
    const dir = await ctx({
      Dockerfile: df,
      "d/a": "a",
      "d/l": { link: "a" },
      target: "t",
      link: { link: "target" },
    });
    const { r } = await run(store, df, dir);
    expect(await layerEntries(store, r.manifest.layers[0]!.digest)).toEqual([
      { path: "d", type: "dir", mode: "755", uid: 0, gid: 0 },
      { path: "d/a", type: "file", mode: "644", uid: 0, gid: 0, size: 1 },
      { path: "d/l", type: "symlink", mode: "777", uid: 0, gid: 0, linkname: "a" },
    ]);
    expect(await layerEntries(store, r.manifest.layers[1]!.digest)).toEqual([
      { path: "f", type: "file", mode: "644", uid: 0, gid: 0, size: 1 },
    ]);
  });
});

describe("build: ADD of a git repository", () => {
  it("clones it at the ref (dumb HTTP here), copies the tree without .git, keyed by the commit", async () => {
    const work = await ctx({});
    const sh = (cmd: string) =>
      execFileSync("sh", ["-c", cmd], {
        cwd: work,
        env: {
          ...process.env,
          GIT_AUTHOR_DATE: "@1700000000 +0000",
          GIT_COMMITTER_DATE: "@1700000000 +0000",
        },
      });
    sh(
      "git init -q -b main src && cd src && mkdir sub && echo one > sub/a.txt && echo x > top.txt && git add . && git -c user.name=t -c user.email=t@t commit -qm one && git tag v1",
    );
    sh("cd src && echo two > sub/a.txt && git -c user.name=t -c user.email=t@t commit -qam two");
    sh("git clone -q --bare src repo.git && git -C repo.git update-server-info");
    const server = createServer((req, res) => {
      const file = join(work, decodeURIComponent((req.url ?? "/").split("?")[0]!));
      readFile(file).then(
        (b) => res.end(b),
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.git`;
    try {
      const store = await newStore();
      const df = `FROM scratch\nADD ${url}#v1 /src/\nADD ${url}#main:sub /only-sub/\n`;
      const { r } = await run(store, df, work);
      expect((await layerEntries(store, r.manifest.layers[0]!.digest)).map((e) => e.path)).toEqual([
        "src",
        "src/sub",
        "src/sub/a.txt",
        "src/top.txt",
      ]);
      const sub = await readLayerEntries(store.layout.openBlob(r.manifest.layers[1]!.digest));
      expect(sub.map((e) => [e.name.replace(/\/$/, ""), e.size])).toEqual([
        ["only-sub", 0],
        ["only-sub/a.txt", 4],
      ]);
      expect((await run(store, df, work)).cachedSteps).toHaveLength(2);
    } finally {
      server.close();
    }
  });
});

describe("build: RUN", () => {
  it("runs in the sandbox and keeps what changed, whiteouts and the mount points runc made included; a rebuild is cached", async () => {
    const store = await newStore();
    const df = "FROM golden/busybox:1\nRUN echo hi > /hi.txt && rm /etc/group\n";
    const dir = await ctx({ Dockerfile: df });
    const { r } = await run(store, df, dir);
    // the base has no /dev, /proc or /sys: runc makes them and they stay, as in docker's layer
    expect(await layerEntries(store, r.manifest.layers[1]!.digest)).toEqual([
      { path: "dev", type: "dir", mode: "755", uid: 0, gid: 0 },
      { path: "etc", type: "dir", mode: "755", uid: 0, gid: 0 },
      { path: "etc/.wh.group", type: "file", mode: "0", uid: 0, gid: 0, size: 0 },
      { path: "hi.txt", type: "file", mode: "644", uid: 0, gid: 0, size: 3 },
      { path: "proc", type: "dir", mode: "755", uid: 0, gid: 0 },
      { path: "sys", type: "dir", mode: "755", uid: 0, gid: 0 },
    ]);
    expect((await run(store, df, dir)).cachedSteps).toEqual(["RUN echo hi > /hi.txt && rm /etc/group"]);
  });
});

describe("build: COPY to the root", () => {
  it("puts a file into / under its own name (onto scratch and onto a base), and another stage reads it", async () => {
    const store = await newStore();
    const df =
      "FROM scratch AS a\nCOPY a.txt /\nFROM golden/busybox:1\nCOPY a.txt b.txt /\nCOPY --from=a /a.txt /c.txt\n";
    const dir = await ctx({ Dockerfile: df, "a.txt": "A", "b.txt": "B" });
    const { r } = await run(store, df, dir);
    const paths = async (i: number) =>
      (await layerEntries(store, r.manifest.layers[i]!.digest)).map((e) => e.path);
    expect(await paths(1)).toEqual(["a.txt", "b.txt"]);
    expect(await paths(2)).toEqual(["c.txt"]);
  });
});

describe("build: names that are not UTF-8", () => {
  it("copies them from the context with their bytes", async () => {
    const store = await newStore();
    const df = "FROM scratch\nCOPY . /x/\n";
    const dir = await ctx({ Dockerfile: df });
    await mkdir(Buffer.from(`${dir}/d\xfe`, "latin1"));
    await writeFile(Buffer.from(`${dir}/d\xfe/bad\xffname`, "latin1"), "b");
    const { r } = await run(store, df, dir);
    const names = (await readLayerEntries(store.layout.openBlob(r.manifest.layers[0]!.digest))).map((e) =>
      pathToBytes(e.name.replace(/\/$/, "")).toString("latin1"),
    );
    expect(names).toContain("x/d\xfe/bad\xffname");
  });
});

describe("build: bad input", () => {
  async function failure(df: string, files: Record<string, string | { link: string }> = {}) {
    const store = await newStore();
    const dir = await ctx({ Dockerfile: df, ...files });
    const before = (await readdir(join(store.root, "blobs", "sha256"))).length;
    const err = await run(store, df, dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    await store.gc();
    expect((await readdir(join(store.root, "blobs", "sha256"))).length).toBeLessThanOrEqual(before + 2);
    return err as Error & { code?: string };
  }

  it("names a missing source with the Dockerfile line", async () => {
    const err = await failure("FROM scratch\nCOPY nope /x\n");
    expect(isBuildError(err)).toBe(true);
    expect(err.code).toBe("SOURCE_NOT_FOUND");
    expect(err.message).toContain('"/nope": not found');
    expect(err.message).toContain("Dockerfile:2");
  });

  it("refuses a source that escapes the context through a symlink", async () => {
    const err = await failure("FROM scratch\nCOPY out /x\n", { out: { link: "/etc/passwd" } });
    expect(err.code).toBe("SOURCE_ESCAPES_CONTEXT");
  });

  it("fails a RUN whose command fails with the command, its exit code and the line", async () => {
    const err = await failure("FROM golden/busybox:1\nRUN echo oops && exit 3\n");
    expect(err.code).toBe("RUN_FAILED");
    expect(err.message).toContain(
      'process "/bin/sh -c echo oops && exit 3" did not complete successfully: exit code: 3',
    );
    expect(err.message).toContain("Dockerfile:2");
  });

  it("refuses a download whose --checksum does not match, and names an unreachable URL", async () => {
    const server = createServer((_req, res) => res.end("payload"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const bad = `sha256:${"0".repeat(64)}`;
      const err = await failure(`FROM scratch\nADD --checksum=${bad} http://127.0.0.1:${port}/f.txt /f\n`);
      expect(err.code).toBe("CHECKSUM_MISMATCH");
      expect(err.message).toContain("Dockerfile:2");
    } finally {
      server.close();
    }
    const gone = await failure(`FROM scratch\nADD http://127.0.0.1:${port}/f.txt /f\n`);
    expect(gone.code).toBe("DOWNLOAD_FAILED");
    expect(gone.message).toContain(`http://127.0.0.1:${port}/f.txt`);
  });

  it("names an unknown --chown user", async () => {
    const err = await failure("FROM golden/busybox:1\nCOPY --chown=nobody a /a\n", { a: "" });
    expect(err.code).toBe("UNKNOWN_USER");
  });

  it("fails on a base image the store does not have and no registry", async () => {
    const err = await failure("FROM nothing/here:1\n");
    expect(err.code).toBe("BASE_IMAGE");
  });
});
