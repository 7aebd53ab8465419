import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { LayerEntry } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxEntries, writeLayerFile } from "../packages/builder/src/testing/busybox.js";
import { ensureTestUser, runAsUser, type TestUser } from "./support/unprivileged.js";

/**
 * RUN steps rootless, as real ordinary users made by useradd: `tsbuild-run`
 * with subordinate ranges in /etc/subuid and /etc/subgid (a user namespace
 * mapping it to 0 and the ranges to 1…65536), and `tsbuild-nosub` without
 * (a single-id namespace and a warning). The built @tsbuild/builder runs as
 * the user; layers are made here as root. Owners the image and the step
 * gave files survive into the entries, whoever runs the build.
 */

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
let BUILDER = join(repo, "packages/builder/dist/index.js");
let CLI = join(repo, "packages/cli/dist/main.js");
const SUB_START = 300000;
const MTIME = 1_700_000_000;

/** USER_SCRIPT runs RUN cases as the user and prints them as JSON (entries shown as the root tests show them). */
const USER_SCRIPT = `
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
const { runStep, UnpackedLayers } = await import(process.argv[1]);
const { blobs, cache, tmp, cases } = JSON.parse(process.argv[2]);
const warnings = [];
const layers = new UnpackedLayers(cache, { onWarning: (m) => warnings.push(m) });
const lowerDirs = [];
let parent;
for (const b of blobs) {
  lowerDirs.push(await layers.ensure(b.chain, parent, async () => createReadStream(b.path)));
  parent = b.chain;
}
async function text(e) {
  if (!e.content) return "";
  if (typeof e.content === "function") {
    const chunks = [];
    for await (const c of e.content()) chunks.push(c);
    return Buffer.concat(chunks).toString();
  }
  return typeof e.content === "object" && "file" in e.content ? await readFile(e.content.file, "utf8") : String(e.content);
}
const results = [];
for (const c of cases) {
  const out = [];
  try {
    const ac = new AbortController();
    if (c.abortAfter) setTimeout(() => ac.abort(new Error("stop")), c.abortAfter);
    const r = await runStep({ lowerDirs, args: ["/bin/sh", "-c", c.script], env: [], cwd: "/", user: c.user ?? "",
      network: "default", snapshotter: c.snapshotter, tmpDir: tmp, mounts: c.mounts, signal: ac.signal,
      onOutput: (b) => out.push(b.toString()) });
    const shown = [];
    for (const e of r.entries) {
      const extra = e.type === "symlink" || e.type === "hardlink" ? " -> " + e.linkname : e.type === "file" && e.size ? " " + JSON.stringify(await text(e)) : "";
      shown.push(e.type + " " + e.path + " " + (e.uid ?? 0) + ":" + (e.gid ?? 0) + " " + (e.mode ?? 0).toString(8) + extra);
    }
    results.push({ name: c.name, shown, output: out.join(""), warnings: r.warnings });
    await r.cleanup();
  } catch (err) {
    results.push({ name: c.name, error: { message: err.message, code: err.code, exitCode: err.exitCode }, output: out.join("") });
  }
}
console.log(JSON.stringify({ warnings, results }));
`;

interface CaseResult {
  name: string;
  shown?: string[];
  output: string;
  warnings?: string[];
  error?: { message: string; code?: string; exitCode?: number };
}

describe("RUN as an unprivileged user", () => {
  let work: string;
  let blobs: { chain: string; path: string }[];

  /** userDir is a directory the user owns, inside the root-owned work dir (not in /tmp or the user's home). */
  const userDir = async (user: TestUser, name: string): Promise<string> => {
    const dir = join(work, name);
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, user.uid, user.gid);
    return dir;
  };

  /** runCases runs the cases as `user` with fresh cache and tmp dirs it owns. */
  const runCases = async (
    user: TestUser,
    cases: object[],
  ): Promise<{ warnings: string[]; results: CaseResult[] }> => {
    const base = await userDir(user, `${user.name}-${Math.random().toString(36).slice(2, 8)}`);
    const [cache, tmp] = [join(base, "layers"), join(base, "tmp")];
    await mkdir(tmp);
    await chown(tmp, user.uid, user.gid);
    const r = await runAsUser(
      user,
      process.execPath,
      ["--input-type=module", "-e", USER_SCRIPT, BUILDER, JSON.stringify({ blobs, cache, tmp, cases })],
      {
        env: { HOME: base, PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", TMPDIR: tmp },
        cwd: base,
      },
    );
    if (r.code !== 0) throw new Error(`user script exited ${r.code}: ${r.stderr}`);
    // Every step's upper/work dirs were removed, even of the failed and aborted ones.
    expect(await readdir(tmp)).toEqual([]);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error("creating the RUN test users needs root: run as root, as CI does");
    if (!existsSync(BUILDER) || !existsSync(join(repo, "packages/cli/dist/main.js")))
      await exec("pnpm", ["exec", "tsc", "-b", "packages/cli"], { cwd: repo });
    work = await mkdtemp(join(tmpdir(), "tsbuild-run-unpriv-"));
    await chmod(work, 0o755);
    const dir = (path: string, mode = 0o755, uid = 0): LayerEntry => ({
      path,
      type: "dir",
      mode,
      uid,
      gid: uid,
      mtime: MTIME,
    });
    const file = (path: string, content: string, mode = 0o644, uid = 0): LayerEntry => ({
      path,
      type: "file",
      mode,
      uid,
      gid: uid,
      content,
      mtime: MTIME,
    });
    const layers = [
      [
        ...busyboxEntries(),
        file("etc/gone", "bye\n"),
        dir("home"),
        dir("home/app", 0o755, 1000),
        file("home/app/f", "app's\n", 0o644, 1000),
        dir("home/app/private", 0o700, 1000),
        file("home/app/private/secret", "mine\n", 0o600, 1000),
        file("usr-suid", "#!/bin/sh\n", 0o4755, 1000),
      ],
      [dir("etc"), { path: "etc/.wh.gone", type: "file", mtime: MTIME } as LayerEntry],
    ];
    blobs = [];
    for (const [i, entries] of layers.entries()) {
      const path = join(work, `layer${i}.tar.gz`);
      const diffId = await writeLayerFile(path, entries);
      await chmod(path, 0o644);
      blobs.push({ chain: `sha256:${i}${diffId.slice(8, 70)}`, path });
    }
    const probe = await runAsUser(
      { name: "nobody", uid: 65534, gid: 65534, home: "/" },
      process.execPath,
      ["-e", `import(${JSON.stringify(BUILDER)}).then(() => console.log("ok"))`],
      { env: { PATH: process.env.PATH ?? "" }, cwd: "/" },
    );
    if (probe.stdout.trim() !== "ok") {
      // The checkout is not readable by other users: stage a readable copy.
      const copy = join(work, "checkout");
      await mkdir(copy);
      execFileSync("sh", [
        "-c",
        'tar -C "$1" --exclude=./.git -cf - . | tar -C "$2" -xf -',
        "sh",
        repo,
        copy,
      ]);
      BUILDER = join(copy, "packages/builder/dist/index.js");
      CLI = join(copy, "packages/cli/dist/main.js");
    }
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe("with subordinate ids", () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await ensureTestUser("tsbuild-run");
      for (const f of ["/etc/subuid", "/etc/subgid"]) {
        const text = await readFile(f, "utf8").catch(() => "");
        if (!text.split("\n").some((l) => l.startsWith(`${user.name}:`)))
          await writeFile(
            f,
            `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${user.name}:${SUB_START}:65536\n`,
          );
      }
    });

    it.each(["overlay", "copy"])(
      "keeps every owner, drops privileges, and diffs as root would (%s)",
      async (snapshotter) => {
        const { warnings, results } = await runCases(user, [
          {
            name: "ids",
            snapshotter,
            script: "id; stat -c '%u:%g %a %n' /home/app/f /home/app/private /usr-suid; ls /etc",
          },
          {
            name: "diff",
            snapshotter,
            script:
              "rm /etc/passwd.x 2>/dev/null; echo x > /etc/x; chown 7:8 /etc/x; chmod 4755 /etc/x; su app -s /bin/sh -c 'touch /home/app/new'; cat /home/app/private/secret; chmod 600 /home/app/f; mkdir -m 700 /priv && echo hidden > /priv/f && chmod 600 /priv/f && chown -R 1000:1000 /priv",
          },
          {
            name: "secret",
            snapshotter,
            script: "cat /run/secrets/s >/dev/null && echo ok",
            mounts: [{ type: "secret", target: "/run/secrets/s", content: "s3cr3t-rootless" }],
          },
          { name: "fail", snapshotter, script: "echo bad; exit 42" },
          { name: "abort", snapshotter, script: "sleep 300", abortAfter: 1500 },
        ]);
        expect(warnings).toEqual([]);
        const byName = Object.fromEntries(results.map((r) => [r.name, r]));
        expect(byName.ids?.output).toBe(
          "uid=0(root) gid=0(root) groups=0(root)\n1000:1000 644 /home/app/f\n1000:1000 700 /home/app/private\n1000:1000 4755 /usr-suid\ngroup\nhosts\npasswd\nresolv.conf\n",
        );
        expect(byName.ids?.shown).toEqual([]);
        expect(byName.diff?.output).toBe("mine\n");
        expect(byName.diff?.shown).toEqual([
          "dir etc 0:0 755",
          'file etc/x 7:8 4755 "x\\n"',
          "dir home 0:0 755",
          "dir home/app 1000:1000 755",
          'file home/app/f 1000:1000 600 "app\'s\\n"',
          "file home/app/new 1000:1000 644",
          "dir priv 1000:1000 700",
          'file priv/f 1000:1000 600 "hidden\\n"',
        ]);
        expect(byName.secret?.output).toBe("ok\n");
        expect(byName.secret?.shown).toEqual([]);
        expect(byName.fail?.error).toEqual({
          code: "RUN_FAILED",
          exitCode: 42,
          message: 'process "/bin/sh -c echo bad; exit 42" did not complete successfully: exit code: 42\nbad',
        });
        expect(byName.abort?.error?.message).toBe("stop");
        // The aborted container ran as the user's uid (root of its namespace): nothing of it is left.
        expect(
          execFileSync("sh", ["-c", `pgrep -u ${user.uid} -a sleep || true`], { encoding: "utf8" }),
        ).toBe("");
      },
      // Several RUNs as the user, each copying a rootfs with the copy snapshotter: minutes on a busy machine.
      300_000,
    );

    it("a build killed outright (SIGKILL) takes its RUN's container with it", async () => {
      const base = await userDir(user, `killed-${Math.random().toString(36).slice(2, 8)}`);
      const rootfs = join(base, "rootfs");
      await mkdir(join(rootfs, "bin"), { recursive: true });
      execFileSync("cp", ["/usr/bin/busybox", join(rootfs, "bin/busybox")]);
      execFileSync("chown", ["-R", `${user.uid}:${user.gid}`, base]);
      const script = [
        `const { runStep } = await import(${JSON.stringify(BUILDER)});`,
        `await runStep({ lowerDirs: [${JSON.stringify(rootfs)}], args: ["/bin/busybox", "sh", "-c", "busybox sleep 303333"],`,
        `  env: [], cwd: "/", user: "", network: "default", tmpDir: ${JSON.stringify(base)} });`,
      ].join("\n");
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
        uid: user.uid,
        gid: user.gid,
        env: { HOME: base, PATH: process.env.PATH ?? "" },
        cwd: base,
        stdio: "ignore",
      });
      const sleeping = () =>
        execFileSync("sh", ["-c", `pgrep -u ${user.uid} -f 'sleep 303333' || true`], {
          encoding: "utf8",
        }).trim();
      for (let i = 0; i < 300 && sleeping() === ""; i++) await new Promise((r) => setTimeout(r, 100));
      expect(sleeping()).not.toBe("");
      child.kill("SIGKILL");
      for (let i = 0; i < 100 && sleeping() !== ""; i++) await new Promise((r) => setTimeout(r, 100));
      expect(sleeping()).toBe("");
      expect(execFileSync("sh", ["-c", `pgrep -u ${user.uid} -a runc || true`], { encoding: "utf8" })).toBe(
        "",
      );
    });

    it("doctor: rootless with subordinate ids, kernel overlay in the user namespace, exit 0", async () => {
      const d = await doctor(user);
      expect(d.stderr).toBe("");
      expect(d.code).toBe(0);
      expect(d.stdout).toContain(
        "  ok      user namespaces      unprivileged user and mount namespaces work\n",
      );
      expect(d.stdout).toContain("  ok      subuid/subgid        65536 uids, 65536 gids for tsbuild-run\n");
      expect(d.stdout).toContain("  ok      kernel overlay       mounts in a user namespace (userxattr)\n");
      expect(d.stdout).toContain("  ok      RUN                  a test step ran (overlay, rootless)\n");
    });
  });

  /** doctor runs `tsbuild doctor` as the user. */
  const doctor = async (user: TestUser) => {
    const home = await userDir(user, `${user.name}-doctor-${Math.random().toString(36).slice(2, 8)}`);
    return runAsUser(user, process.execPath, [CLI, "doctor"], {
      env: { HOME: home, PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", TMPDIR: home },
      cwd: home,
    });
  };

  describe("without subordinate ids", () => {
    it("maps only the user and warns what will fail", async () => {
      const user = await ensureTestUser("tsbuild-nosub");
      // useradd may have given it ranges (SUB_UID_COUNT in login.defs): take them away.
      for (const f of ["/etc/subuid", "/etc/subgid"]) {
        const text = await readFile(f, "utf8").catch(() => "");
        const kept = text
          .split("\n")
          .filter((l) => !l.startsWith(`${user.name}:`) && !l.startsWith(`${user.uid}:`));
        await writeFile(f, kept.join("\n"));
      }
      const { results } = await runCases(user, [
        { name: "id", snapshotter: "overlay", script: "id -u; echo new > /etc/new" },
        { name: "chown", snapshotter: "overlay", script: "chown 5 /etc/passwd" },
      ]);
      expect(results[0], JSON.stringify(results)).not.toHaveProperty("error");
      expect(results[0]?.output).toBe("0\n");
      expect(results[0]?.shown).toEqual(["dir etc 0:0 755", 'file etc/new 0:0 644 "new\\n"']);
      expect(results[0]?.warnings?.[0]).toMatch(
        /^no subordinate uids for tsbuild-nosub in \/etc\/subuid: .*Fix: sudo usermod --add-subuids/,
      );
      expect(results[1]?.error?.code).toBe("RUN_FAILED");
      expect(results[1]?.output).toMatch(/chown: \/etc\/passwd: Invalid argument/);
      const d = await doctor(user);
      expect(d.code).toBe(0);
      expect(d.stdout).toContain(`RUN steps for ${user.name}: rootless (user namespace)\n`);
      expect(d.stdout).toContain(
        `  MISSING subuid/subgid        no ranges for ${user.name} in /etc/subuid and /etc/subgid: RUN sees only uid 0; chown and apt's _apt fail\n` +
          `                               fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user.name}\n`,
      );
      expect(d.stdout).toMatch(/RUN works here: overlay snapshots, rootless\.\n$/);
    });
  });
});
