import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../packages/cli/src/testing.js";

/** A secret given to a build appears in no blob, no cache record, no index and no log: every file is searched. */
const SECRET = "tsbuild-secret-value-7f3a9c1e";

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...files(p));
    else if (st?.isFile()) out.push(p);
  }
  return out;
}

function contains(file: string): boolean {
  const data = readFileSync(file);
  if (data.includes(SECRET)) return true;
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      return gunzipSync(data).includes(SECRET);
    } catch {
      return false;
    }
  }
  return false;
}

describe("build --secret", () => {
  let dir: string;
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("this test runs RUN as root: run it as root (CI does)");
    dir = await mkdtemp(join(tmpdir(), "tsbuild-secret-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reaches the RUN that mounts it, and nothing else the build wrote", async () => {
    const ctx = join(dir, "ctx");
    execFileSync("mkdir", ["-p", ctx]);
    execFileSync("cp", ["/bin/busybox", join(ctx, "busybox")]);
    await writeFile(join(dir, "token"), SECRET);
    await writeFile(
      join(ctx, "Dockerfile"),
      [
        "FROM scratch",
        "COPY busybox /bin/busybox",
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        // The step proves it read the secret (its length) without printing or keeping it.
        "RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len && test -s /run/secrets/tok",
        "RUN --mount=type=secret,id=tok,target=/etc/tok,required=true cat /etc/tok | wc -c",
      ].join("\n"),
    );
    const root = join(dir, "store");
    const r = await runCli([
      "--root",
      root,
      "build",
      "--progress",
      "plain",
      "--secret",
      `id=tok,src=${join(dir, "token")}`,
      "-t",
      "secret:1",
      "-o",
      `type=docker,dest=${join(dir, "image.tar")}`,
      ctx,
    ]);
    // BuildKit's plain line: `#4 0.123 40`, the time since the step started, then the output.
    expect(r.stderr).toMatch(new RegExp(`\n#4 \\d+\\.\\d+ ${SECRET.length}\n`));
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const written = [...files(root), join(dir, "image.tar")];
    expect(written.length).toBeGreaterThan(10);
    expect(written.filter(contains)).toEqual([]);
    // The archive's blobs are gzip layers: unpack it and search each one decompressed.
    const out = join(dir, "archive");
    execFileSync("mkdir", ["-p", out]);
    execFileSync("tar", ["-xf", join(dir, "image.tar"), "-C", out]);
    expect(files(out).filter(contains)).toEqual([]);
  });
});
