import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ImageStore } from "@tsbuild/oci";
import { afterEach, describe, expect, it } from "vitest";
import { isBuildError } from "../errors.js";
import { build } from "./build.js";
import { addBaseImage, writeTree } from "./testing.js";
import type { BuildEvent } from "./types.js";

/** The library's build(): a handle whose events end with the image, outputs written, and a clean abort. */

const cleanup: string[] = [];
const stores: ImageStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of cleanup.splice(0)) await rm(d, { recursive: true, force: true });
});

async function newStore(): Promise<ImageStore> {
  const root = await mkdtemp(join(tmpdir(), "tsbuild-build-api-"));
  cleanup.push(root);
  const store = await ImageStore.open({ root });
  stores.push(store);
  await addBaseImage(store, "golden/busybox:1");
  return store;
}

async function ctx(files: Record<string, string>): Promise<string> {
  const d = await writeTree(files);
  cleanup.push(d);
  return d;
}

/** files lists every path under a directory with its size (directories end in "/"). */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = relative(dir, join(e.parentPath, e.name));
    out.push(e.isDirectory() ? `${p}/` : `${p} ${(await stat(join(dir, p))).size}`);
  }
  return out.sort();
}

function pgrep(pattern: string): string {
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

describe("build(): the handle", () => {
  it("yields each step from start to done, the bytes of an ADD url, and the image last", async () => {
    const body = Buffer.alloc(300_000, 7);
    const server = createServer((_req, res) => {
      res.setHeader("content-length", String(body.length));
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const store = await newStore();
      const df = `FROM golden/busybox:1\nADD http://127.0.0.1:${port}/blob.bin /blob.bin\nLABEL a=1\n`;
      const seen: BuildEvent[] = [];
      const handle = build({
        store,
        dockerfile: df,
        contextDir: await ctx({}),
        labels: { a: "2", b: "3" },
        tags: ["app:1"],
        onEvent: (e) => seen.push(e),
      });
      const events: BuildEvent[] = [];
      for await (const e of handle) events.push(e);
      const image = await handle.result;
      expect(events).toEqual(seen);
      // FROM is a step (CACHED: the store has it); LABEL is none, as in BuildKit; the export is one.
      expect(events.map((e) => e.type).filter((t) => t !== "progress")).toEqual([
        "step",
        "base",
        "cached",
        "done",
        "step",
        "done",
        "step",
        "done",
        "image",
      ]);
      const steps = events.filter((e) => e.type === "step");
      const from = steps[0]!.text.slice("FROM ".length);
      expect(steps.map((s) => [s.stage, s.index, s.total, s.name])).toEqual([
        ["stage-0", 1, 2, `[1/2] FROM ${from}`],
        ["stage-0", 2, 2, `[2/2] ADD http://127.0.0.1:${port}/blob.bin /blob.bin`],
        ["", 0, 0, "exporting to image"],
      ]);
      const id = steps[1]!.id;
      const progress = events.filter((e) => e.type === "progress");
      expect(progress.length).toBeGreaterThan(0);
      for (const p of progress) expect(p).toMatchObject({ id, total: body.length });
      const currents = progress.map((p) => p.current);
      expect(currents).toEqual([...currents].sort((a, b) => a - b));
      expect(currents.at(-1)).toBe(body.length);
      expect(events.find((e) => e.type === "done" && e.id === id)).toMatchObject({
        layer: image.manifest.layers.at(-1)!.digest,
      });
      expect(events.at(-1)).toEqual({ type: "image", image });
      // --label goes over the Dockerfile's LABEL on the final image; the tag names it in the store.
      expect(image.config.config?.Labels).toEqual({ a: "2", b: "3" });
      expect(image.names).toEqual(["docker.io/library/app:1"]);
      expect((await store.resolve("app:1")).manifestDigest).toBe(image.manifestDigest);
    } finally {
      server.close();
    }
  });

  it("reads contextDir/Dockerfile when given no text; a failure rejects result and ends the loop with it", async () => {
    const store = await newStore();
    const ok = await build({
      store,
      contextDir: await ctx({ Dockerfile: "FROM golden/busybox:1\nENV A=1\n" }),
    }).result;
    expect(ok.config.config?.Env).toContain("A=1");
    expect(ok.names).toEqual([]);

    const handle = build({
      store,
      dockerfile: "FROM golden/busybox:1\nCOPY missing /\n",
      contextDir: await ctx({}),
    });
    const types: string[] = [];
    const err = await (async () => {
      for await (const e of handle) types.push(e.type);
    })().catch((e: unknown) => e);
    expect(isBuildError(err) && err.code).toBe("SOURCE_NOT_FOUND");
    expect(await handle.result.catch((e: unknown) => e)).toBe(err);
    expect(types).not.toContain("image");
  });

  it("an abort mid-RUN kills the container, removes its mounts and temp dirs, and leaves the store as it was", async () => {
    if (process.getuid?.() !== 0) throw new Error("this test runs RUN as root (as CI does)");
    const store = await newStore();
    const before = await files(store.root);
    const index = await readFile(join(store.root, "index.json"));
    const context = await ctx({});
    // The build's own temp dirs (os.tmpdir() reads TMPDIR on each call) go where nothing else writes.
    const tmp = await mkdtemp(join(tmpdir(), "tsbuild-build-api-tmp-"));
    cleanup.push(tmp);
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    cleanup.push(tmp);
    const marker = `${400_000 + (process.pid % 10_000)}`;
    const df = `FROM golden/busybox:1\nRUN /bin/busybox sleep ${marker}\n`;
    const ac = new AbortController();
    const handle = build({
      store,
      dockerfile: df,
      contextDir: context,
      tags: ["never:1"],
      signal: ac.signal,
    });
    for (let i = 0; i < 600 && pgrep(`sleep ${marker}`) === ""; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(pgrep(`sleep ${marker}`)).not.toBe("");
    ac.abort(new Error("stop the build"));
    try {
      await expect(handle.result).rejects.toThrow("stop the build");
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
    // The container and its runc are gone, nothing is mounted from the store, no temp dir is left.
    expect(pgrep(`sleep ${marker}`)).toBe("");
    expect(pgrep(store.root)).toBe("");
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(store.root);
    expect(await readdir(tmp)).toEqual([]);
    // The store: same index (no new name), same blobs, same lease file (no digest left held), no temp
    // file; the build cache holds no step, only the base's unpacked layer (a cache of its own, pruned by
    // `builder prune`).
    expect(await readFile(join(store.root, "index.json"))).toEqual(index);
    const after = await files(store.root);
    expect(after.filter((f) => f !== "buildcache/" && !f.startsWith("buildcache/unpacked/"))).toEqual(before);
    expect(before.filter((f) => f.startsWith(".tmp/")).length).toBeGreaterThan(0);
  });
});
