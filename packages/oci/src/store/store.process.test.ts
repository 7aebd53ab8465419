import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeImage } from "./__fixtures__/images.js";
import { ImageStore } from "./store.js";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));
const worker = fileURLToPath(new URL("./__fixtures__/worker.mjs", import.meta.url));

// The workers import the built package: build it once (tsc -b is incremental).
beforeAll(() => {
  execFileSync(join(repo, "node_modules/.bin/tsc"), ["-b", "packages/oci"], { cwd: repo, stdio: "inherit" });
});

let root: string;
let store: ImageStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "store-proc-"));
  store = await ImageStore.open({ root, lockTimeoutMs: 20_000 });
});
afterEach(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

function run(op: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [worker, op, root, ...args], { stdio: ["pipe", "pipe", "pipe"] });
}

async function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  return { code, signal, stderr };
}

async function waitForLine(child: ChildProcess, line: string): Promise<string> {
  let out = "";
  for await (const d of child.stdout!) {
    out += d;
    if (out.includes(line) && out.endsWith("\n")) return out;
  }
  throw new Error(`child exited before printing ${line}`);
}

describe("store across processes", () => {
  it("two processes tagging and removing 50 names each lose nothing", async () => {
    const base = await makeImage(store, { names: ["base"] });
    const results = await Promise.all([
      exitOf(run("tag", "a", "50", "base")),
      exitOf(run("tag", "b", "50", base.id)),
    ]);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const img = await store.resolve("base");
    const want = ["docker.io/library/base:latest"];
    for (const p of ["a", "b"]) for (let i = 0; i < 50; i += 2) want.push(`docker.io/library/${p}:${i}`);
    expect([...img.names].sort()).toEqual(want.sort());
    expect((await store.layout.readIndex()).manifests).toHaveLength(want.length);
  });

  it("a process killed mid-blob-write leaves no visible blob, and its debris is cleaned", async () => {
    await makeImage(store, { names: ["base"] });
    const before = await store.layout.listBlobs();
    const child = run("blob");
    const exited = exitOf(child);
    await waitForLine(child, "writing");
    child.kill("SIGKILL");
    expect((await exited).signal).toBe("SIGKILL");
    const reopened = await ImageStore.open({ root });
    expect((await reopened.layout.listBlobs()).sort()).toEqual(before.sort());
    expect((await readdir(join(root, ".tmp"))).some((n) => n.startsWith("blob-"))).toBe(true);
    await reopened.layout.cleanTemp();
    expect((await readdir(join(root, ".tmp"))).filter((n) => n.startsWith("blob-"))).toEqual([]);
    expect((await reopened.resolve("base")).names).toEqual(["docker.io/library/base:latest"]);
    await reopened.close();
  });

  it("a process killed mid-index-update leaves a valid index and a lock that is broken", async () => {
    const base = await makeImage(store, { names: ["base"] });
    for (let round = 0; round < 4; round++) {
      const child = run("churn", base.id);
      const exited = exitOf(child);
      await waitForLine(child, "ready");
      await new Promise((r) => setTimeout(r, 5 + round * 15));
      child.kill("SIGKILL");
      await exited;
      const index = await store.layout.readIndex();
      expect(index.manifests.length).toBeGreaterThanOrEqual(1);
      // The dead process may have held the lock: the next update must still go through.
      await store.tag("base", `after:${round}`);
      expect((await store.resolve(`after:${round}`)).id).toBe(base.id);
    }
    expect(await store.resolve("base")).toMatchObject({ id: base.id });
  });

  it("blobs another process wrote but has not added yet survive a prune there (leases)", async () => {
    const child = run("pending");
    const exited = exitOf(child);
    const [, layer, config] = (await waitForLine(child, "written")).trim().split(" ");
    await makeImage(store, { names: ["doomed"] });
    const pruned = await store.prune({ all: true });
    expect(pruned.deleted).toHaveLength(1);
    expect(await store.layout.hasBlob(layer!)).toBe(true);
    expect(await store.layout.hasBlob(config!)).toBe(true);
    child.stdin!.end("go\n");
    expect(await exited).toMatchObject({ code: 0 });
    expect((await store.resolve("pending")).id).toBe(config);
  });

  it("is an OCI layout other tools read by the full names (skopeo, umoci)", async () => {
    const img = await makeImage(store, { names: ["custom-nginx:packaged", "localhost:5000/x"] });
    const out = execFileSync("skopeo", ["inspect", `oci:${root}:docker.io/library/custom-nginx:packaged`], {
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toMatchObject({ Digest: img.manifestDigest, Architecture: "amd64", Os: "linux" });
    const tags = execFileSync("umoci", ["ls", "--layout", root], { encoding: "utf8" });
    expect(tags.trim().split("\n").sort()).toEqual([
      "docker.io/library/custom-nginx:packaged",
      "localhost:5000/x:latest",
    ]);
  });
});
