import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX } from "../packages/builder/src/testing/busybox.js";
import { freePort } from "./support/registry.js";
import { ensureTestUser, readableCheckout, type TestUser } from "./support/unprivileged.js";

/**
 * `tsbuild run` as a user types it: the built CLI spawned as a process, as
 * root and as a real ordinary user (rootless, subordinate ids), on images
 * imported from a busybox-static rootfs. Exit codes, output, stdin, a real
 * pseudo-terminal (script(1)), signals, bind mounts, network modes and
 * published ports (slirp4netns, curl on loopback); after every run nothing
 * is left: no work dir in the store, no mount, no process.
 */

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
let CLI = join(repo, "packages/cli/dist/main.js");
const USER_NAME = "tsbuild-runctr";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runner runs the CLI with a store of its own, as root or as the user. */
interface Runner {
  root: string;
  home: string;
  user?: TestUser;
  env: Record<string, string>;
}

function spawnCli(r: Runner, args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [CLI, "--root", r.root, ...args], {
    ...(r.user && { uid: r.user.uid, gid: r.user.gid }),
    cwd: r.home,
    env: { ...r.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

function cli(
  r: Runner,
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(r, args, opts.env);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.on("error", () => {});
    child.stdin.end(opts.stdin ?? "");
  });
}

/** rootfs writes a busybox-static root filesystem with passwd/group (root, app 1000). */
async function rootfs(dir: string): Promise<void> {
  await mkdir(join(dir, "bin"), { recursive: true });
  await mkdir(join(dir, "etc"));
  await mkdir(join(dir, "tmp"), { mode: 0o1777 });
  await chmod(join(dir, "tmp"), 0o1777);
  execFileSync("cp", [BUSYBOX, join(dir, "bin/busybox")]);
  for (const a of execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n")) {
    if (a && a !== "busybox") await symlink("busybox", join(dir, "bin", a));
  }
  await writeFile(
    join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
  );
  await writeFile(join(dir, "etc/group"), "root:x:0:\napp:x:1000:\n");
}

/** leftovers lists what a finished run must not leave: work dirs in the store, mounts and processes of it. */
async function leftovers(r: Runner): Promise<string[]> {
  const found: string[] = [];
  const cache = join(r.root, "buildcache");
  for (const n of await readdir(cache).catch(() => [] as string[]))
    if (n !== "unpacked") found.push(`dir ${n}`);
  const holds = join(cache, "unpacked", ".holds");
  for (const n of await readdir(holds).catch(() => [] as string[])) found.push(`hold ${n}`);
  for (const line of (await readFile("/proc/self/mountinfo", "utf8")).split("\n"))
    if (line.includes(r.root)) found.push(`mount ${line}`);
  const procs = execFileSync("sh", ["-c", `pgrep -af '${r.root}' || true`], {
    encoding: "utf8",
  }).trim();
  if (procs)
    found.push(
      ...procs
        .split("\n")
        .filter((l) => !l.includes("pgrep"))
        .map((l) => `process ${l}`),
    );
  return found;
}

/** curlUntil fetches the URL until it answers (the container is starting). */
async function curlUntil(url: string): Promise<string> {
  let last = "";
  for (let i = 0; i < 100; i++) {
    try {
      return (await exec("curl", ["-fsS", "--max-time", "5", url])).stdout;
    } catch (err) {
      last = String((err as { stderr?: string }).stderr ?? err);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} never answered: ${last}`);
}

/** waitFor resolves when `text` has appeared in the child's stdout. */
function waitFor(child: ReturnType<typeof spawn>, text: string, seen: Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (Buffer.concat(seen).toString().includes(text)) resolve();
    };
    child.stdout!.on("data", (c: Buffer) => {
      seen.push(c);
      check();
    });
    child.once("close", (code) => reject(new Error(`exited ${code} before printing ${text}`)));
  });
}

describe("tsbuild run", () => {
  let work: string;
  let www: string;
  const runners: Record<"root" | "user", Runner> = {} as never;

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error("runc and the test user need root: run as root, as CI does");
    if (!existsSync(CLI)) await exec("pnpm", ["exec", "tsc", "-b", "packages/cli"], { cwd: repo });
    work = await mkdtemp(join(tmpdir(), "tsbuild-run-cli-"));
    await chmod(work, 0o755);
    const fs = join(work, "rootfs");
    await rootfs(fs);
    www = join(work, "www");
    await mkdir(www);
    await writeFile(join(www, "index.html"), "served by busybox httpd\n");
    const path = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin";
    runners.root = { root: join(work, "root-store"), home: work, env: { PATH: path, HOME: work } };
    const user = await ensureTestUser(USER_NAME);
    for (const f of ["/etc/subuid", "/etc/subgid"]) {
      const text = await readFile(f, "utf8").catch(() => "");
      if (!text.split("\n").some((l) => l.startsWith(`${user.name}:`)))
        await writeFile(
          f,
          `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${user.name}:600000:65536\n`,
        );
    }
    const home = join(work, "user");
    await mkdir(join(home, "tmp"), { recursive: true });
    execFileSync("chown", ["-R", `${user.uid}:${user.gid}`, home]);
    runners.user = {
      root: join(home, "store"),
      home,
      user,
      env: { PATH: path, HOME: home, TMPDIR: join(home, "tmp"), USER: user.name },
    };
    if ((await cli(runners.user, ["--version"])).code !== 0) {
      // The checkout is not readable by other users: run a readable copy.
      CLI = await readableCheckout(work);
    }
    for (const r of Object.values(runners)) {
      const imp = (args: string[]) => cli(r, ["image", "import", ...args]);
      expect((await imp(["--change", 'CMD ["sh"]', fs, "bb"])).code).toBe(0);
      const cfg = await imp([
        ...["--change", "ENV FOO=bar", "--change", "WORKDIR /srv", "--change", "USER app"],
        ...["--change", 'ENTRYPOINT ["/bin/sh", "-c"]', "--change", 'CMD ["echo $FOO $(pwd) $(id -un)"]'],
        fs,
        "cfg",
      ]);
      expect(cfg.stderr).toBe("");
    }
  }, 300_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe.each(["root", "user"] as const)("as %s", (who) => {
    const r = () => runners[who];

    it("passes output and the exit code through; 127, 126 and 125 as docker's", async () => {
      const ran = await cli(r(), ["run", "bb", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      expect(ran).toEqual({ code: 3, stdout: "out\n", stderr: "err\n" });
      const notFound = await cli(r(), ["run", "bb", "nosuch"]);
      expect(notFound.code).toBe(127);
      expect(notFound.stderr).toContain(
        'Error: unable to start container process: exec: "nosuch": executable file not found in $PATH\n',
      );
      const notExec = await cli(r(), ["run", "bb", "/etc"]);
      expect(notExec.code).toBe(126);
      expect(notExec.stderr).toContain('exec: "/etc": permission denied\n');
      expect(await cli(r(), ["run", "nope"])).toEqual({
        code: 125,
        stdout: "",
        stderr: "Error: No such image: nope:latest\n",
      });
      expect(await leftovers(r())).toEqual([]);
    });

    it("honours the image's Entrypoint, Cmd, Env, WorkingDir and User, and the flags that replace them", async () => {
      expect(await cli(r(), ["run", "cfg"])).toEqual({ code: 0, stdout: "bar /srv app\n", stderr: "" });
      const envFile = join(r().home, `env-${who}`);
      await writeFile(envFile, "# comment\nFROM_FILE=1\nFROM_HOST\n");
      await chmod(envFile, 0o644);
      const over = await cli(
        r(),
        [
          "run",
          "-e",
          "FOO=baz",
          "--env-file",
          envFile,
          "-w",
          "/tmp/new",
          "-u",
          "root",
          "cfg",
          "echo $FOO $FROM_FILE $FROM_HOST $(pwd) $(id -un) $HOME",
        ],
        { env: { FROM_HOST: "h" } },
      );
      expect(over).toEqual({ code: 0, stdout: "baz 1 h /tmp/new root /root\n", stderr: "" });
      expect(await cli(r(), ["run", "--entrypoint", "/bin/echo", "cfg", "a", "-n", "b"])).toEqual({
        code: 0,
        stdout: "a -n b\n",
        stderr: "",
      });
    });

    it("binds host directories read-write and read-only (-v)", async () => {
      const vol = join(r().home, `vol-${who}`);
      await mkdir(vol);
      await writeFile(join(vol, "in"), "from the host\n");
      if (r().user) execFileSync("chown", ["-R", `${r().user!.uid}:${r().user!.gid}`, vol]);
      const rw = await cli(r(), [
        "run",
        "-v",
        `${vol}:/data`,
        "bb",
        "sh",
        "-c",
        "cat /data/in; echo back > /data/out",
      ]);
      expect(rw).toEqual({ code: 0, stdout: "from the host\n", stderr: "" });
      expect(await readFile(join(vol, "out"), "utf8")).toBe("back\n");
      const ro = await cli(r(), [
        "run",
        "-v",
        `${vol}:/data:ro`,
        "bb",
        "sh",
        "-c",
        "cat /data/in; echo x > /data/no",
      ]);
      expect(ro.code).toBe(1);
      expect(ro.stdout).toBe("from the host\n");
      expect(ro.stderr).toBe("sh: can't create /data/no: Read-only file system\n");
      expect(existsSync(join(vol, "no"))).toBe(false);
    });

    it("--network none has only loopback; stdin reaches the container with -i only", async () => {
      const none = await cli(r(), ["run", "--network", "none", "bb", "sh", "-c", "ip -o link | cut -d: -f2"]);
      expect(none).toEqual({ code: 0, stdout: " lo\n", stderr: "" });
      expect(
        await cli(r(), ["run", "-i", "bb", "sh", "-c", "read l; echo got $l"], { stdin: "line\n" }),
      ).toEqual({
        code: 0,
        stdout: "got line\n",
        stderr: "",
      });
      expect(await cli(r(), ["run", "bb", "sh", "-c", "cat; echo end"], { stdin: "ignored\n" })).toEqual({
        code: 0,
        stdout: "end\n",
        stderr: "",
      });
    });

    it("-t gives a pseudo-terminal under a real one; without a terminal it fails as docker's", async () => {
      const cmd = [
        process.execPath,
        CLI,
        "--root",
        r().root,
        "run",
        "-t",
        "bb",
        "sh",
        "-c",
        '\'tty; for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null) && [ "$s" != "0 0" ] && break; sleep 0.2; done; echo $s; exit 5\'',
      ].join(" ");
      const script = await new Promise<Ran>((resolve) => {
        const child = spawn("script", ["-qfec", `stty cols 91 rows 17; ${cmd}`, "/dev/null"], {
          ...(r().user && { uid: r().user!.uid, gid: r().user!.gid }),
          cwd: r().home,
          env: r().env,
          stdio: ["pipe", "pipe", "pipe"],
        });
        const out: Buffer[] = [];
        child.stdout.on("data", (c: Buffer) => out.push(c));
        child.stdin.end();
        child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: "" }));
      });
      // runc echoes a NUL (^@) as it takes the terminal over, and sets the size just after the process
      // starts (hence the retries); the pty turns \n into \r\n.
      expect(script.stdout.replace(/^\^@/, "")).toBe("/dev/pts/0\r\n17 91\r\n");
      expect(script.code).toBe(5);
      expect(await cli(r(), ["run", "-t", "bb", "true"])).toEqual({
        code: 125,
        stdout: "",
        stderr: "Error: the input device is not a TTY\n",
      });
    });

    it("forwards SIGTERM to the container, which exits as it chooses; nothing is left", async () => {
      const child = spawnCli(r(), [
        "run",
        "bb",
        "sh",
        "-c",
        'trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.1; done',
      ]);
      child.stdin.end();
      const seen: Buffer[] = [];
      await waitFor(child, "ready\n", seen);
      const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
      child.kill("SIGTERM");
      expect(await closed).toBe(42);
      expect(Buffer.concat(seen).toString()).toBe("ready\ngot TERM\n");
      expect(await leftovers(r())).toEqual([]);
    });

    it("-p publishes a port through slirp4netns: busybox httpd answers curl on 127.0.0.1", async () => {
      const port = await freePort();
      const child = spawnCli(r(), [
        "run",
        "-p",
        `127.0.0.1:${port}:80`,
        "-v",
        `${www}:/www:ro`,
        "bb",
        "sh",
        "-c",
        'trap "exit 0" TERM; httpd -f -p 80 -h /www & echo started; wait',
      ]);
      child.stdin.end();
      const err: Buffer[] = [];
      child.stderr.on("data", (c: Buffer) => err.push(c));
      const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
      try {
        expect(await curlUntil(`http://127.0.0.1:${port}/index.html`)).toBe("served by busybox httpd\n");
      } finally {
        child.kill("SIGTERM");
      }
      expect(await closed, Buffer.concat(err).toString()).toBe(0);
      expect(await leftovers(r())).toEqual([]);
    });
  });

  it("-p without slirp4netns fails naming the package", async () => {
    // A PATH with every tool but slirp4netns.
    const bin = join(work, "no-slirp");
    await mkdir(bin);
    const seen = new Set<string>();
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      for (const n of await readdir(dir).catch(() => [] as string[])) {
        if (n === "slirp4netns" || seen.has(n)) continue;
        seen.add(n);
        await symlink(join(dir, n), join(bin, n));
      }
    }
    const r = await cli(runners.root, ["run", "-p", "8080:80", "bb", "true"], { env: { PATH: bin } });
    expect(r).toEqual({
      code: 125,
      stdout: "",
      stderr:
        "Error: publishing ports (-p) needs slirp4netns, which is not installed: install Debian's package slirp4netns (apt-get install slirp4netns)\n",
    });
    expect(await leftovers(runners.root)).toEqual([]);
  });

  it("usage errors of run exit 125 with docker's messages", async () => {
    const bad = await cli(runners.root, ["run", "-p", "80", "bb", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/invalid publish spec "80": give \[IP:\]HOST_PORT:CONTAINER_PORT/);
    const vol = await cli(runners.root, ["run", "-v", "named:/x", "bb", "true"]);
    expect(vol.stderr).toMatch(/tsbuild has no named volumes/);
    expect((await cli(runners.root, ["run", "--network", "none", "-p", "1:2", "bb", "true"])).stderr).toBe(
      "Error: conflicting options: port publishing and the container type network mode\n",
    );
  });
});
