import { execFile, execFileSync, spawn } from "node:child_process";
import { lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** TEST_USER_NAME is the unprivileged account the rootless tests run tsbuild as. */
export const TEST_USER_NAME = "tsbuild-test";

/** TestUser is the unprivileged account: ids and home directory as the passwd database says. */
export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** UserRun is what one process run as the test user printed and returned. */
export interface UserRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * ensureTestUser creates the unprivileged account when it is missing
 * (`useradd --create-home`), idempotently: an existing one is reused. Only
 * root can do this; callers check `process.getuid() === 0` first.
 */
export async function ensureTestUser(name = TEST_USER_NAME): Promise<TestUser> {
  const known = await exec("id", ["-u", name]).then(
    () => true,
    () => false,
  );
  if (!known) {
    try {
      await exec("useradd", ["--create-home", "--shell", "/bin/sh", name]);
    } catch (err) {
      // Another process may have created it in between (exit 9: name already in use).
      if ((err as { code?: number }).code !== 9) throw err;
    }
  }
  const { stdout } = await exec("getent", ["passwd", name]);
  const fields = stdout.trim().split(":");
  const [uid, gid, home] = [Number(fields[2]), Number(fields[3]), fields[5] ?? ""];
  if (!Number.isInteger(uid) || uid === 0 || !Number.isInteger(gid) || home === "") {
    throw new Error(`unexpected passwd entry for ${name}: ${stdout.trim()}`);
  }
  return { name, uid, gid, home };
}

/**
 * runAsUser spawns `cmd args` with the user's uid and gid (no supplementary
 * groups: Node's spawn calls setgroups(0) before setuid when it runs as root)
 * and exactly `env`, never root's environment, so nothing of root's HOME,
 * TSBUILD_ROOT or DOCKER_CONFIG leaks into the run.
 */
export function runAsUser(
  user: TestUser,
  cmd: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd: string; stdin?: string | Buffer },
): Promise<UserRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      uid: user.uid,
      gid: user.gid,
      env: options.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    // A child that exits without reading its stdin must not fail the run with EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin ?? "");
  });
}

/**
 * ownedPaths lists the paths under `dirs` owned by `uid`, skipping the
 * subtrees in `exclude`. The rootless tests run it on the world-writable
 * directories (and the user's home) to prove the user's runs created nothing
 * outside the directories they were given. It descends only into directories
 * the user could write into without owning them (world-writable ones, such as
 * sticky /tmp subdirectories): anywhere else the user can only have created
 * something below a path it owns, and that path is reported itself.
 */
export async function ownedPaths(
  uid: number,
  dirs: readonly string[],
  exclude: readonly string[],
): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return; // vanished meanwhile
    }
    for (const name of names) {
      const path = join(dir, name);
      if (exclude.some((e) => path === e || path.startsWith(`${e}/`))) continue;
      const st = await lstat(path).catch(() => undefined);
      if (!st) continue;
      if (st.uid === uid) found.push(path);
      else if (st.isDirectory() && (st.mode & 0o002) !== 0) await walk(path);
    }
  };
  for (const dir of dirs) await walk(dir);
  return found.sort();
}

/**
 * readableCheckout copies the built checkout (no .git, no tests; pnpm's relative symlinks survive) into
 * `dir/checkout`, mode 0755, and returns the CLI's entry there: a CI clone may sit in a directory other
 * users cannot enter, so an unprivileged user runs this copy.
 */
export async function readableCheckout(dir: string): Promise<string> {
  const repo = fileURLToPath(new URL("../..", import.meta.url));
  const copy = join(dir, "checkout");
  await mkdir(copy, { mode: 0o755 });
  execFileSync("sh", [
    "-c",
    'tar -C "$1" --exclude=./.git --exclude=./test -cf - . | tar -C "$2" -xf -',
    "sh",
    repo,
    copy,
  ]);
  return join(copy, "packages/cli/dist/main.js");
}
