import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestUser, readableCheckout, runAsUser, type TestUser } from "../support/unprivileged.js";
import { writeBases } from "./bases.js";
import type { KnownDifference } from "./compare.js";
import { compareDescriptions, describeArchive, type ImageDescription } from "./describe.js";

/**
 * The RUN golden cases again, built by an ordinary user (rootless: a user namespace over its subordinate
 * ids): the same trees and layers as docker's, with the same listed differences as the root build.
 */
const BUILD = fileURLToPath(new URL("./build/", import.meta.url));
const CASES = readdirSync(BUILD)
  .filter((c) => c.startsWith("run-"))
  .sort();
const USER_NAME = "tsbuild-golden";
/** ROOTLESS_FAILS are cases that cannot work without real root, as in rootless BuildKit: they must fail clearly. */
const ROOTLESS_FAILS: Record<string, string> = {
  "run-special-files": "mknod /dev-null-copy c 1 3: a user namespace may not create device nodes",
};

interface CaseJson {
  buildArgs: Record<string, string>;
  target: string | null;
  baseLayers: number;
  needsHttp: boolean;
  secrets?: Record<string, string>;
  knownDifferences: KnownDifference[];
}

let work: string;
let user: TestUser;
let main: string;
let store: string;

async function asUser(args: string[], cwd: string) {
  const r = await runAsUser(user, process.execPath, [main, "--root", store, ...args], {
    env: { HOME: user.home, PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    cwd,
  });
  if (r.code !== 0) throw new Error(`tsbuild ${args.join(" ")} as ${user.name}: ${r.stderr}`);
  return r;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test creates a user: run it as root (CI does)");
  user = await ensureTestUser(USER_NAME);
  for (const f of ["/etc/subuid", "/etc/subgid"]) {
    const text = await readFile(f, "utf8").catch(() => "");
    if (!text.split("\n").some((l) => l.startsWith(`${user.name}:`)))
      await writeFile(
        f,
        `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${user.name}:600000:65536\n`,
      );
  }
  work = await mkdtemp(join(tmpdir(), "tsbuild-golden-user-"));
  await chmod(work, 0o755);
  // A readable copy of the built checkout (a CI clone may sit in a directory other users cannot enter).
  main = await readableCheckout(work);
  store = join(work, "store");
  await mkdir(store, { mode: 0o700 });
  await chown(store, user.uid, user.gid);
  for (const file of (await writeBases(join(work, "bases"))).values())
    await asUser(["load", "-i", file], work);
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("golden: RUN cases built by an ordinary user match docker", () => {
  it.each(CASES)(
    "%s",
    async (name) => {
      const dir = join(BUILD, name);
      const c = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as CaseJson;
      const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as ImageDescription;
      expect(c.needsHttp).toBe(false);
      const ctx = join(work, `ctx-${name}`);
      const extra = join(work, `extra-${name}`);
      execFileSync("bash", [join(dir, "setup.sh"), ctx, extra]);
      execFileSync("chmod", ["-R", "a+rX", ctx, extra]);
      const out = join(work, `out-${name}`);
      await mkdir(out, { mode: 0o755 });
      await chown(out, user.uid, user.gid);
      const args = [
        "build",
        "-q",
        "-f",
        join(dir, "Dockerfile"),
        "-o",
        `type=docker,dest=${join(out, "image.tar")}`,
      ];
      for (const [k, v] of Object.entries(c.buildArgs)) args.push("--build-arg", `${k}=${v}`);
      if (c.target) args.push("--target", c.target);
      for (const [id, f] of Object.entries(c.secrets ?? {}))
        args.push("--secret", `id=${id},src=${join(extra, f)}`);
      if (ROOTLESS_FAILS[name]) {
        await expect(asUser([...args, ctx], ctx)).rejects.toThrow(
          /did not complete successfully: exit code: 1/,
        );
        return;
      }
      await asUser([...args, ctx], ctx);
      const actual = await describeArchive(join(out, "image.tar"), { baseLayers: c.baseLayers });
      expect(compareDescriptions(expected, actual, c.knownDifferences)).toEqual([]);
    },
    300_000,
  );
});
