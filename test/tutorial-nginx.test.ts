import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ImageStore, type LayerEntryInfo, readLayerEntries } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../packages/cli/src/testing.js";
import { pushDebianBase } from "./support/debian-base.js";
import { freePort, startRegistry, type TestRegistry } from "./support/registry.js";
import { httpGet, prepareBundle, type RuncContainer, runDetached } from "./support/runc.js";
import { ok, Timings } from "./support/timings.js";
import { ensureTestUser, readableCheckout, runAsUser, type TestUser } from "./support/unprivileged.js";

/**
 * The tutorial, end to end: a Debian bookworm base made here with
 * debootstrap (scripts/debian-base.sh, cached outside the checkout), imported
 * and pushed to the real docker-registry as `library/ubuntu:latest`; the
 * tutorial's Dockerfile built as `custom-nginx:packaged` by root and by a real
 * ordinary user (useradd, subordinate ids), with apt-get reaching the host's
 * Debian mirror; both builds give the same layer, owners included; the
 * root-built image, exported as an OCI layout and unpacked with umoci, runs
 * under runc and serves nginx's default page on loopback; and, as the
 * tutorial's `docker container run --publish 8080:80`, `tsbuild run -p
 * 8080:80` serves it on 127.0.0.1:8080, as root and as the ordinary user.
 */

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
/** MAIN is the built CLI the ordinary user runs; it moves to a readable copy when the checkout is not readable. */
let MAIN = join(repo, "packages/cli/dist/main.js");
const TAG = "custom-nginx:packaged";
const USER_NAME = "tsbuild-nginx";
const MINUTE = 60_000;
const RUN_LINE =
  "RUN apt-get update && apt-get install nginx -y && apt-get clean && rm -rf /var/lib/apt/lists/*";

const timings = new Timings("tutorial");

/** layerRows lists the entries of the image's last layer (the RUN's) as "type mode uid:gid [-> link]": no timestamps. */
async function layerRows(storeRoot: string): Promise<Map<string, string>> {
  const store = await ImageStore.open({ root: storeRoot });
  try {
    const image = await store.resolve(TAG);
    const top = image.manifest.layers.at(-1);
    if (!top) throw new Error(`${TAG} has no layers`);
    const entries: LayerEntryInfo[] = await readLayerEntries(await store.openBlob(top));
    return new Map(
      entries.map((e) => [
        e.name,
        `${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid}${e.linkname ? ` -> ${e.linkname}` : ""}`,
      ]),
    );
  } finally {
    await store.close();
  }
}

describe("the tutorial: custom-nginx:packaged on a debootstrapped Debian base", () => {
  let registry: TestRegistry;
  let work: string;
  let context: string;
  let base: string;
  let user: TestUser;
  let container: RuncContainer | undefined;
  const rootStore = () => join(work, "root-store");
  const rootEnv = () => ({ ...process.env, TSBUILD_ROOT: rootStore(), DOCKER_CONFIG: join(work, "docker") });
  /** userDir makes a directory the ordinary user owns inside the root-owned work dir. */
  const userDir = async (name: string): Promise<string> => {
    const dir = join(work, name);
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, user.uid, user.gid);
    return dir;
  };
  /** asUser runs the built CLI as the ordinary user, with a clean environment and its own store. */
  const asUser = async (args: string[]) => {
    const home = join(work, "user");
    return runAsUser(user, process.execPath, [MAIN, "--root", join(home, "store"), ...args], {
      env: {
        HOME: home,
        TMPDIR: join(home, "tmp"),
        PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
        USER: user.name,
        LOGNAME: user.name,
      },
      cwd: home,
    });
  };

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error("debootstrap, the test user and runc need root: run as root, as CI does");
    if (!existsSync(MAIN)) await exec("pnpm", ["exec", "tsc", "-b", "packages/cli"], { cwd: repo });
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), "tsbuild-tutorial-"));
    await chmod(work, 0o755);
    base = await timings.time("debian base (debootstrap or cache), imported and pushed", () =>
      pushDebianBase(registry, { seedRoot: join(work, "seed"), env: rootEnv() }),
    );
    context = join(work, "context");
    await mkdir(context);
    await writeFile(
      join(context, "Dockerfile"),
      `FROM ${base}\nEXPOSE 80\n${RUN_LINE}\nCMD ["nginx","-g","daemon off;"]\n`,
    );
    await chmod(context, 0o755);

    user = await ensureTestUser(USER_NAME);
    for (const f of ["/etc/subuid", "/etc/subgid"]) {
      const text = await readFile(f, "utf8").catch(() => "");
      if (!text.split("\n").some((l) => l.startsWith(`${user.name}:`)))
        await writeFile(
          f,
          `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${user.name}:500000:65536\n`,
        );
    }
    const home = await userDir("user");
    await mkdir(join(home, "tmp"));
    await chown(join(home, "tmp"), user.uid, user.gid);
    if ((await asUser(["--version"])).code !== 0) {
      // The checkout is not readable by other users (a CI clone in a 0700 dir): run a readable copy.
      MAIN = await readableCheckout(work);
      ok(`${user.name} running ${MAIN} --version`, await asUser(["--version"]));
    }
  }, 30 * MINUTE);

  afterAll(async () => {
    await container?.remove().catch(() => {});
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    timings.print();
  });

  it(
    "builds as root: apt-get installs nginx; image ls and history read as docker's",
    async () => {
      const r = await timings.time("build as root", () =>
        runCli(["build", "--tag", TAG, "--progress", "plain", context], { env: rootEnv() }),
      );
      ok("build as root", r);
      expect(r.stderr).toContain(`[2/2] ${RUN_LINE}\n`);
      expect(r.stderr).toMatch(/Setting up nginx /);
      expect(r.stdout).toMatch(/Successfully tagged custom-nginx:packaged\n$/);

      const ls = ok("image ls", await runCli(["image", "ls", "custom-nginx"], { env: rootEnv() }));
      expect(ls).toMatch(
        /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\ncustom-nginx\s+packaged\s+[0-9a-f]{12}\s+.+ ago\s+\d+(\.\d+)?MB\n$/,
      );

      const id = ok(
        "inspect",
        await runCli(["image", "inspect", "--format", "{{.Id}}", TAG], { env: rootEnv() }),
      );
      const history = ok("history", await runCli(["image", "history", TAG], { env: rootEnv() }));
      // docker history of a BuildKit-built image: the image's id on its top row, <missing> below.
      const [header = "", ...rows] = history.trimEnd().split("\n");
      expect(header).toMatch(/^IMAGE {2,}CREATED {2,}CREATED BY {2,}SIZE {2,}COMMENT$/);
      // Columns at the header's offsets (a cell may be empty, as the imported base's CREATED BY).
      const at = ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"].map((h) => header.indexOf(h));
      const cells = [header, ...rows].map((row) => at.map((from, i) => row.slice(from, at[i + 1]).trim()));
      expect(cells.map((c) => [c[0], c[2], c[4]])).toEqual([
        ["IMAGE", "CREATED BY", "COMMENT"],
        [id.slice(7, 19), 'CMD ["nginx" "-g" "daemon off;"]', "buildkit.dockerfile.v0"],
        ["<missing>", "RUN /bin/sh -c apt-get update && apt-get ins…", "buildkit.dockerfile.v0"],
        ["<missing>", "EXPOSE [80/tcp]", "buildkit.dockerfile.v0"],
        ["<missing>", "", "Imported from -"],
      ]);
      const mb = expect.stringMatching(/^\d+(\.\d+)?MB$/);
      expect(cells.map((c) => c[3])).toEqual(["SIZE", "0B", mb, "0B", mb]);
    },
    30 * MINUTE,
  );

  it(
    "builds as an ordinary user with subordinate ids: the same image",
    async () => {
      const r = await timings.time("build as the user", () =>
        asUser(["build", "--tag", TAG, "--progress", "plain", context]),
      );
      ok("build as the user", r);
      expect(r.stderr).toContain(`[2/2] ${RUN_LINE}\n`);
      expect(r.stderr).toMatch(/Setting up nginx /);
      expect(r.stderr).not.toMatch(/subordinate/);
      const ls = ok("image ls", await asUser(["image", "ls", "custom-nginx"]));
      expect(ls).toMatch(/\ncustom-nginx\s+packaged\s+[0-9a-f]{12}\s/);
    },
    30 * MINUTE,
  );

  it(
    "both builds' RUN layers hold the same files, modes and owners",
    async () => {
      const [asRoot, asUserRows] = await Promise.all([
        layerRows(rootStore()),
        layerRows(join(work, "user", "store")),
      ]);
      // Owners apt and the maintainer scripts gave: _apt's partial dir, www-data's logs in group adm.
      const owned = [
        "var/cache/apt/archives/partial/",
        "var/lib/nginx/",
        "var/log/nginx/",
        "var/log/nginx/access.log",
      ];
      expect(owned.map((p) => asRoot.get(p))).toEqual([
        "dir 700 42:0",
        "dir 755 0:0",
        "dir 755 0:4",
        "file 640 33:4",
      ]);
      expect(asRoot.get("usr/sbin/nginx")).toBe("file 755 0:0");
      // Whoever built it.
      expect([...asUserRows.entries()].sort()).toEqual([...asRoot.entries()].sort());
    },
    10 * MINUTE,
  );

  /** publishPort is the tutorial's 8080 when it is free, else a free port (tests may run side by side). */
  const publishPort = async (): Promise<number> => {
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(8080, "0.0.0.0", () => resolve(true));
    });
    if (!free) return freePort();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return 8080;
  };

  /** servesNginx runs `tsbuild run -p PORT:80` of the image (as root, or as the user), curls the page, stops it with SIGTERM. */
  const servesNginx = async (asTheUser: boolean): Promise<void> => {
    const port = await publishPort();
    const home = join(work, "user");
    const child = spawn(
      process.execPath,
      [MAIN, ...(asTheUser ? ["--root", join(home, "store")] : []), "run", "--rm", "-p", `${port}:80`, TAG],
      asTheUser
        ? {
            uid: user.uid,
            gid: user.gid,
            cwd: home,
            env: {
              HOME: home,
              TMPDIR: join(home, "tmp"),
              PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
              USER: user.name,
            },
            stdio: ["ignore", "pipe", "pipe"],
          }
        : { cwd: work, env: rootEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    const output: Buffer[] = [];
    child.stdout!.on("data", (c: Buffer) => output.push(c));
    child.stderr!.on("data", (c: Buffer) => output.push(c));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      const page = await timings.time(
        `tsbuild run -p ${port}:80 (${asTheUser ? "user" : "root"})`,
        async () => {
          let last = "";
          for (let i = 0; i < 240; i++) {
            if (child.exitCode !== null) break;
            try {
              return (await exec("curl", ["-fsS", "--max-time", "10", `http://127.0.0.1:${port}/`])).stdout;
            } catch (err) {
              last = String((err as { stderr?: string }).stderr ?? err);
              await new Promise((r) => setTimeout(r, 500));
            }
          }
          throw new Error(`nginx never answered on ${port}: ${last}\n${Buffer.concat(output).toString()}`);
        },
      );
      expect(page).toContain("<title>Welcome to nginx!</title>");
    } finally {
      child.kill("SIGTERM");
    }
    // nginx stops on SIGTERM (forwarded to it): a clean exit, and nothing of the container is left.
    expect(await closed, Buffer.concat(output).toString()).toBe(0);
    const store = asTheUser ? join(home, "store") : rootStore();
    expect(
      execFileSync("sh", ["-c", `pgrep -af '${store}' | grep -v pgrep || true`], { encoding: "utf8" }),
    ).toBe("");
  };

  it(
    "tsbuild run -p 8080:80 serves nginx's default page on 127.0.0.1:8080, as root",
    () => servesNginx(false),
    10 * MINUTE,
  );

  it(
    "tsbuild run -p 8080:80 serves nginx's default page on 127.0.0.1:8080, as the ordinary user (rootless)",
    () => servesNginx(true),
    10 * MINUTE,
  );

  it(
    "runc runs the image exported as an OCI layout: nginx serves its default page on loopback",
    async () => {
      const layout = join(work, "layout");
      const r = await timings.time("rebuild (cached) with -o type=oci", () =>
        runCli(["build", "--tag", TAG, "--progress", "plain", "-o", `type=oci,dest=${layout}`, context], {
          env: rootEnv(),
        }),
      );
      ok("build -o type=oci", r);
      expect(r.stderr).toMatch(/#\d+ CACHED/);
      const bundle = join(work, "bundle");
      await timings.time("umoci unpack", () =>
        exec("umoci", ["unpack", "--image", `${layout}:packaged`, bundle]),
      );

      // The host's network (no network namespace) and a free port instead of 80.
      const port = await freePort();
      expect(await prepareBundle(bundle, { hostNetwork: true })).toEqual(["nginx", "-g", "daemon off;"]);
      const site = join(bundle, "rootfs/etc/nginx/sites-available/default");
      const conf = await readFile(site, "utf8");
      expect(conf).toMatch(/listen 80 default_server;/);
      await writeFile(
        site,
        conf
          .replace(/listen 80 default_server;/, `listen 127.0.0.1:${port} default_server;`)
          .replace(/\n\s*listen \[::\]:80 default_server;/, ""),
      );

      const state = join(work, "runc-state");
      await mkdir(state);
      container = await runDetached(bundle, state, `tsbuild-tutorial-${process.pid}`);
      const page = await timings.time("nginx answers", () => httpGet(`http://127.0.0.1:${port}/`));
      expect(page).toContain("<title>Welcome to nginx!</title>");
      expect(await container.status()).toBe("running");
      await container.remove();
      const gone = await exec("runc", ["--root", state, "state", container.name]).then(
        () => "still there",
        (err: { stderr?: string }) => err.stderr ?? "",
      );
      expect(gone).toMatch(/does not exist/);
      container = undefined;
    },
    10 * MINUTE,
  );
});
