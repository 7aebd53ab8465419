import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry, TEST_USER, type TestRegistry } from "./support/registry.js";
import {
  ensureTestUser,
  ownedPaths,
  runAsUser,
  type TestUser,
  type UserRun,
} from "./support/unprivileged.js";

/**
 * The rootless paths, proven as a real unprivileged account (`tsbuild-test`,
 * made with useradd) rather than as root: the built CLI runs with that
 * user's uid/gid and a clean environment. Covered: the default store
 * location, `image import` of root-made trees and tarballs (devices, fifos,
 * foreign owners, setuid, an unreadable file), the image verbs, applyLayer
 * without privileges, and pull/push/login against the real registry — and
 * that none of it writes outside the user's own directories. Root and the
 * user never share a store here.
 */

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
/** MAIN and OCI_DIST are what the user runs; they move to a readable copy when the checkout is not readable. */
let MAIN = join(repo, "packages/cli/dist/main.js");
let OCI_DIST = join(repo, "packages/oci/dist/index.js");
let stagedCopy: string | undefined;

/**
 * stageReadableCopy copies the built checkout (without .git; pnpm's relative
 * symlinks survive) to a directory every user may read, for CI clones that
 * live somewhere other users cannot enter (e.g. under a 0700 mktemp dir).
 */
async function stageReadableCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-unpriv-checkout-"));
  await chmod(dir, 0o755);
  execFileSync("sh", ["-c", 'tar -C "$1" --exclude=./.git -cf - . | tar -C "$2" -xf -', "sh", repo, dir]);
  return dir;
}
const isRoot = process.getuid?.() === 0;
/** WORLD_WRITABLE are the directories besides its home where an unprivileged user can create files. */
const WORLD_WRITABLE = ["/tmp", "/var/tmp", "/dev/shm"];

describe("tsbuild as an unprivileged user", () => {
  let user: TestUser;
  let work: string;
  let before: string[];
  let beforeHome: string[];
  let srcDir: string;
  let srcTar: string;

  /** userEnv is a login-like environment for the user: nothing of root's leaks in. */
  const userEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    HOME: join(work, "home"),
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    USER: user.name,
    LOGNAME: user.name,
    ...extra,
  });
  /** tsbuild runs the built CLI as the user. */
  const tsbuild = (args: string[], env: Record<string, string>, stdin?: string): Promise<UserRun> =>
    runAsUser(user, process.execPath, [MAIN, ...args], {
      env: userEnv(env),
      cwd: work,
      ...(stdin && { stdin }),
    });
  /** ok runs tsbuild as the user and fails the test, with its stderr, on a non-zero exit. */
  const ok = async (args: string[], env: Record<string, string>, stdin?: string): Promise<string> => {
    const r = await tsbuild(args, env, stdin);
    if (r.code !== 0) throw new Error(`tsbuild ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** userDir makes a directory the user owns inside the run's work dir. */
  const userDir = async (name: string, mode = 0o700): Promise<string> => {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true, mode });
    await chown(dir, user.uid, user.gid);
    return dir;
  };

  beforeAll(async () => {
    if (!isRoot)
      throw new Error(
        "creating the tsbuild-test user and running the CLI as it needs root: run as root, as CI does",
      );
    if (!existsSync(MAIN) || !existsSync(OCI_DIST))
      await exec("pnpm", ["exec", "tsc", "-b", "packages/cli"], { cwd: repo });
    user = await ensureTestUser();
    work = await mkdtemp(join(user.home, "run-"));
    await chown(work, user.uid, user.gid);
    await userDir("home");
    let probe = await runAsUser(user, process.execPath, [MAIN, "--version"], { env: userEnv(), cwd: work });
    if (probe.code !== 0) {
      // The checkout is not readable by other users: run a readable copy of it instead.
      stagedCopy = await stageReadableCopy();
      MAIN = join(stagedCopy, "packages/cli/dist/main.js");
      OCI_DIST = join(stagedCopy, "packages/oci/dist/index.js");
      probe = await runAsUser(user, process.execPath, [MAIN, "--version"], { env: userEnv(), cwd: work });
    }
    if (probe.code !== 0) {
      throw new Error(
        `${user.name} (uid ${user.uid}) cannot run ${MAIN}: the checkout and its node_modules must be readable ` +
          `by other users (clone with umask 022 into a directory others may enter, e.g. /tmp/tsbuild or /work/main). ` +
          `stderr: ${probe.stderr.trim()}`,
      );
    }
    before = await ownedPaths(user.uid, WORLD_WRITABLE, []);
    beforeHome = await ownedPaths(user.uid, [user.home], [work]);

    // A tree made by root: a char device, a fifo, a file of another uid/gid, a setuid file, a hardlink.
    srcDir = join(work, "src");
    await mkdir(join(srcDir, "dev"), { recursive: true });
    await mkdir(join(srcDir, "etc"));
    await mkdir(join(srcDir, "ro"));
    await writeFile(join(srcDir, "ro/inside"), "in a read-only directory\n", { mode: 0o444 });
    execFileSync("mknod", ["-m", "666", join(srcDir, "dev/null"), "c", "1", "3"]);
    execFileSync("mkfifo", ["-m", "600", join(srcDir, "dev/fifo")]);
    await writeFile(join(srcDir, "etc/foreign"), "owned by someone else\n");
    await chown(join(srcDir, "etc/foreign"), 1234, 5678);
    await writeFile(join(srcDir, "etc/suid"), "#!/bin/sh\n");
    await chmod(join(srcDir, "etc/suid"), 0o4755);
    execFileSync("ln", [join(srcDir, "etc/foreign"), join(srcDir, "etc/foreign-link")]);
    await chmod(join(srcDir, "ro"), 0o555);
    srcTar = join(work, "src.tar");
    execFileSync("tar", ["--numeric-owner", "--sort=name", "-cf", srcTar, "-C", srcDir, "."]);
    await chmod(srcTar, 0o644);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
    if (stagedCopy) await rm(stagedCopy, { recursive: true, force: true });
  });

  it("runs with the user's ids and no supplementary groups", async () => {
    const r = await runAsUser(user, "id", [], { env: userEnv(), cwd: work });
    expect(r.stdout.trim()).toBe(
      `uid=${user.uid}(${user.name}) gid=${user.gid}(${user.name}) groups=${user.gid}(${user.name})`,
    );
  });

  it.each([
    { name: "$XDG_DATA_HOME/tsbuild", xdg: true },
    { name: "~/.local/share/tsbuild", xdg: false },
  ])("creates the default store at $name, owned by the user, mode 0700", async ({ xdg }) => {
    const home = await userDir(xdg ? "home-xdg" : "home-default");
    const xdgDir = join(work, "xdg-data"); // does not exist yet: tsbuild creates it
    const env: Record<string, string> = { HOME: home, ...(xdg && { XDG_DATA_HOME: xdgDir }) };
    expect(await ok(["images", "-q"], env)).toBe("");
    const store = xdg ? join(xdgDir, "tsbuild") : join(home, ".local/share/tsbuild");
    expect(existsSync(join(home, ".local"))).toBe(!xdg);
    const st = await lstat(store);
    expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) }).toEqual({
      uid: user.uid,
      gid: user.gid,
      mode: "700",
    });
    // Directories the store needed are created 0700, as the XDG base-directory spec asks.
    const parents = xdg ? [xdgDir] : [join(home, ".local"), join(home, ".local/share")];
    for (const p of parents) expect(((await lstat(p)).mode & 0o777).toString(8), p).toBe("700");
    expect((await readdir(store)).sort()).toEqual(
      expect.arrayContaining(["blobs", "index.json", "oci-layout"]),
    );
    for (const name of await readdir(store, { recursive: true })) {
      const s = await lstat(join(store, name));
      expect(s.uid, name).toBe(user.uid);
      expect(s.mode & 0o022, `${name} is group/world-writable`).toBe(0);
    }
    // An existing store directory keeps the mode it has.
    await chmod(store, 0o750);
    await ok(["images"], env);
    expect(((await lstat(store)).mode & 0o777).toString(8)).toBe("750");
  });

  it("image import of a root-made directory with an unreadable file fails naming it, storing nothing", async () => {
    const dir = join(work, "src-secret");
    execFileSync("cp", ["-a", srcDir, dir]);
    await writeFile(join(dir, "etc/shadow"), "root only\n", { mode: 0o000 });
    await chmod(join(dir, "etc/shadow"), 0o000);
    const root = join(work, "store-secret");
    const r = await tsbuild(["--root", root, "image", "import", dir, "me/secret:1"], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(dir, "etc/shadow"));
    expect(r.stderr).toMatch(/permission denied/i);
    expect(r.stdout).toBe("");
    expect(await ok(["--root", root, "images", "-a", "-q"], {})).toBe("");
    const blobs = (await readdir(join(root, "blobs"), { recursive: true, withFileTypes: true })).filter(
      (e) => !e.isDirectory(),
    );
    expect(blobs.map((e) => e.name)).toEqual([]);
  });

  it("an unreadable tarball to import, or an unwritable save destination, is a clear error, not a crash", async () => {
    const env = { TSBUILD_ROOT: join(work, "store-denied") };
    const secretTar = join(work, "secret.tar");
    execFileSync("cp", [srcTar, secretTar]);
    await chmod(secretTar, 0o600);
    const imported = await tsbuild(["image", "import", secretTar, "me/secret:1"], env);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toBe(
      `Error: ${secretTar}: cannot read import source: EACCES: permission denied, open '${secretTar}'\n`,
    );
    expect(await ok(["images", "-a", "-q"], env)).toBe("");

    await ok(["image", "import", srcTar, "me/ok:1"], env);
    const lockedDir = join(work, "root-only");
    // Root's and 0700, as /root is: the failed open must be the error, not the cleanup's lstat of the temp file.
    await mkdir(lockedDir, { mode: 0o700 });
    const saved = await tsbuild(["image", "save", "-o", join(lockedDir, "out.tar"), "me/ok:1"], env);
    expect(saved.code).toBe(1);
    expect(saved.stderr).toMatch(
      new RegExp(`^Error: EACCES: permission denied, open '${lockedDir}/out\\.tar\\.tmp-`),
    );
    expect(await readdir(lockedDir)).toEqual([]);
  });

  it("image import of the root-made directory keeps devices, fifos, owners and setuid in the layer", async () => {
    const env = { TSBUILD_ROOT: join(work, "store-dir") };
    const id = (await ok(["image", "import", srcDir, "me/dir:1"], env)).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const listing = await savedLayerListing(["me/dir:1"], env, "dir.tar");
    expect(listing).toEqual(expect.arrayContaining(expectedEntries()));
  });

  it("image import of a tarball with devices and foreign owners stores it byte for byte", async () => {
    const env = { TSBUILD_ROOT: join(work, "store") };
    await ok(["image", "import", srcTar, "me/tar:1"], env);
    const inspect = JSON.parse(await ok(["image", "inspect", "me/tar:1"], env)) as Array<{
      RootFS: { Layers: string[] };
    }>;
    const diffId = `sha256:${createHash("sha256")
      .update(await readFile(srcTar))
      .digest("hex")}`;
    expect(inspect[0]?.RootFS.Layers).toEqual([diffId]);
    expect(await savedLayerListing(["me/tar:1"], env, "tar.tar")).toEqual(
      expect.arrayContaining(expectedEntries()),
    );
  });

  it("tag, save, rm, load, history, inspect, images and prune work as the user", async () => {
    const env = { TSBUILD_ROOT: join(work, "store") };
    const id = JSON.parse(await ok(["image", "inspect", "me/tar:1"], env))[0].Id as string;
    await ok(["tag", "me/tar:1", "me/tar:2"], env);
    const archive = join(work, "roundtrip.tar");
    await ok(["image", "save", "-o", archive, "me/tar:1", "me/tar:2"], env);
    expect((await lstat(archive)).uid).toBe(user.uid);
    expect(await ok(["rmi", "me/tar:1"], env)).toBe("Untagged: me/tar:1\n");
    const rm = await ok(["rmi", "me/tar:2"], env);
    expect(rm).toContain("Untagged: me/tar:2\n");
    expect(rm).toContain(`Deleted: ${id}\n`);
    expect(await ok(["images", "-q", "me/tar"], env)).toBe("");

    const loaded = await ok(["image", "load", "-i", archive], env);
    expect(loaded).toContain("Loaded image: me/tar:1\n");
    expect(loaded).toContain("Loaded image: me/tar:2\n");
    const listed = (await ok(["images", "--format", "json", "me/tar"], env))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { Repository: string; Tag: string; ID: string });
    expect(listed.map((i) => `${i.Repository}:${i.Tag}`).sort()).toEqual(["me/tar:1", "me/tar:2"]);
    expect(new Set(listed.map((i) => i.ID))).toEqual(new Set([id.slice(7, 19)]));
    const history = await ok(["history", "--no-trunc", "me/tar:2"], env);
    expect(history.split("\n")[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(history).toContain(id);
    expect(history).toContain("Imported from -");

    // An untagged import is dangling: prune -f removes it and nothing else.
    const dangling = (await ok(["image", "import", srcTar], { ...env, SOURCE_DATE_EPOCH: "1" })).trim();
    const pruned = await ok(["image", "prune", "-f"], env);
    expect(pruned).toContain(`deleted: ${dangling}\n`);
    expect(pruned).toMatch(/Total reclaimed space: /);
    // One row per tag, as docker prints them: both tags of the one image are left.
    expect((await ok(["images", "-q"], env)).trim().split("\n")).toEqual([id.slice(7, 19), id.slice(7, 19)]);
  });

  it("applyLayer as the user skips device nodes (reported), does not chown, and creates the rest", async () => {
    const target = await userDir("applied");
    const script = [
      'import { createReadStream } from "node:fs";',
      `import { applyLayer } from ${JSON.stringify(OCI_DIST)};`,
      "const runs = [];",
      "// Twice: the second time the layer lands on the first one's read-only directories and files.",
      "for (let i = 0; i < 2; i++) {",
      "  const warnings = [];",
      "  const r = await applyLayer(createReadStream(process.argv[1]), process.argv[2], {",
      "    onWarning: (message, where) => warnings.push({ message, where }),",
      "  });",
      "  runs.push({ ...r, warnings });",
      "}",
      "console.log(JSON.stringify(runs));",
    ].join("\n");
    const r = await runAsUser(user, process.execPath, ["--input-type=module", "-e", script, srcTar, target], {
      env: userEnv(),
      cwd: work,
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as {
      skipped: string[];
      warnings: { message: string; where: string }[];
    }[];
    expect(runs).toHaveLength(2);
    for (const result of runs) {
      expect(result.skipped).toEqual(["dev/null"]);
      expect(result.warnings).toEqual([
        { message: expect.stringMatching(/device node skipped/), where: "./dev/null" },
      ]);
    }
    expect(existsSync(join(target, "dev/null"))).toBe(false);
    const fifo = await lstat(join(target, "dev/fifo"));
    expect(fifo.isFIFO()).toBe(true);
    const foreign = await lstat(join(target, "etc/foreign"));
    expect({ uid: foreign.uid, gid: foreign.gid }).toEqual({ uid: user.uid, gid: user.gid });
    expect((await lstat(join(target, "etc/foreign-link"))).ino).toBe(foreign.ino);
    expect(((await lstat(join(target, "etc/suid"))).mode & 0o7777).toString(8)).toBe("4755");
    expect(((await lstat(join(target, "ro"))).mode & 0o7777).toString(8)).toBe("555");
    expect(((await lstat(join(target, "ro/inside"))).mode & 0o7777).toString(8)).toBe("444");
    for (const name of await readdir(target, { recursive: true })) {
      expect((await lstat(join(target, name))).uid, name).toBe(user.uid);
    }
  });

  describe.each(["anonymous", "token"] as const)("pull and push against docker-registry (%s)", (mode) => {
    let registry: TestRegistry;
    beforeAll(async () => {
      registry = await startRegistry({ auth: mode });
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it("pushes the user's image and pulls it back into another store; login writes ~/.docker/config.json 0600", async () => {
      const home = await userDir(`home-${mode}`);
      const env = { HOME: home, TSBUILD_ROOT: join(work, "store") };
      const name = `${registry.host}/me/unpriv:${mode}`;
      await ok(["tag", "me/tar:1", name], env);
      if (mode === "token") {
        const denied = await tsbuild(["push", name], env);
        expect(denied.code).toBe(1);
        const login = await tsbuild(
          ["login", registry.host, "-u", TEST_USER.username, "--password-stdin"],
          env,
          `${TEST_USER.password}\n`,
        );
        expect(login.stdout).toBe("Login Succeeded\n");
        expect(login.code).toBe(0);
        const config = join(home, ".docker/config.json");
        const st = await lstat(config);
        expect({ uid: st.uid, mode: (st.mode & 0o777).toString(8) }).toEqual({ uid: user.uid, mode: "600" });
        expect(((await lstat(join(home, ".docker"))).mode & 0o777).toString(8)).toBe("700");
        expect(JSON.parse(await readFile(config, "utf8")).auths).toHaveProperty([registry.host]);
      }
      const pushed = await ok(["push", name], env);
      expect(pushed).toMatch(new RegExp(`${mode}: digest: sha256:[0-9a-f]{64} size: \\d+\\n$`));
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];

      const pulledEnv = { HOME: home, TSBUILD_ROOT: join(work, `pulled-${mode}`) };
      const pulled = await ok(["pull", name], pulledEnv);
      expect(pulled).toContain(`Digest: ${digest}`);
      const ids = await Promise.all(
        [env, pulledEnv].map(
          async (e) => JSON.parse(await ok(["image", "inspect", name], e))[0].Id as string,
        ),
      );
      expect(ids[1]).toBe(ids[0]);
      for (const p of await readdir(home, { recursive: true })) {
        expect((await lstat(join(home, p))).uid, p).toBe(user.uid);
      }
    }, 180_000);
  });

  it("created nothing outside the user's own directories", async () => {
    expect(await ownedPaths(user.uid, WORLD_WRITABLE, [])).toEqual(before);
    expect(await ownedPaths(user.uid, [user.home], [work])).toEqual(beforeHome);
  });

  /** savedLayerListing saves `images` as the user and lists the first layer with GNU tar (numeric owners). */
  async function savedLayerListing(
    images: string[],
    env: Record<string, string>,
    file: string,
  ): Promise<string[]> {
    const archive = join(work, file);
    await ok(["image", "save", "-o", archive, ...images], env);
    const out = join(work, `${file}.d`);
    await mkdir(out);
    execFileSync("tar", ["-xf", archive, "-C", out]);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Array<{
      Layers: string[];
    }>;
    const layer = join(out, manifest[0]?.Layers[0] ?? "missing");
    const text = execFileSync("tar", ["--numeric-owner", "-tvf", layer], { encoding: "utf8" });
    // "crw-rw-rw- 0/0 1,3 2026-11-27 03:03 ./dev/null" → "crw-rw-rw- 0/0 1,3 dev/null"
    return text
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/))
      .map((f) =>
        [
          f[0],
          f[1],
          f[0]?.startsWith("c") ? f[2] : "",
          f
            .slice(5)
            .join(" ")
            .replace(/(^| )\.\//g, "$1"),
        ].join(" "),
      );
  }
});

/** expectedEntries is what the root-made tree must keep in a layer, in savedLayerListing's form. */
function expectedEntries(): string[] {
  return [
    "crw-rw-rw- 0/0 1,3 dev/null",
    "prw------- 0/0  dev/fifo",
    "-rw-r--r-- 1234/5678  etc/foreign",
    "hrw-r--r-- 1234/5678  etc/foreign-link link to etc/foreign",
    "-rwsr-xr-x 0/0  etc/suid",
    "dr-xr-xr-x 0/0  ro/",
    "-r--r--r-- 0/0  ro/inside",
  ];
}
