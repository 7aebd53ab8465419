import { execFileSync, spawn } from "node:child_process";
import { createReadStream, existsSync, readFileSync, symlinkSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LayerEntry } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunFailedError } from "../errors.js";
import type { SnapshotKind } from "../snapshot/snapshotter.js";
import { UnpackedLayers } from "../snapshot/unpacked.js";
import { busyboxEntries, writeLayerFile } from "../testing/busybox.js";
import { type RunStepOptions, runStep } from "./execute.js";

/**
 * RUN steps as root, on a busybox rootfs made from Debian's busybox-static:
 * a base layer and a second layer with whiteouts (deep and opaque), unpacked
 * through UnpackedLayers, run with real runc on kernel overlay and on the
 * copy fallback. The rootless twin is test/run-unprivileged.test.ts.
 */

const MTIME = 1_700_000_000;
let work: string;
let lowers: string[];
let tmp: string;

/** show is an entry as the tests compare it (mtime left out: every run gives new ones). */
function show(e: LayerEntry): string {
  const content =
    e.type === "file" && e.content && typeof e.content === "object" && "file" in e.content
      ? ` ${JSON.stringify(readFileSync(e.content.file, "utf8"))}`
      : "";
  const extra = e.type === "symlink" || e.type === "hardlink" ? ` -> ${e.linkname}` : content;
  return `${e.type} ${e.path} ${e.uid ?? 0}:${e.gid ?? 0} ${(e.mode ?? 0).toString(8)}${extra}`;
}

async function run(script: string, more: Partial<RunStepOptions> = {}) {
  const r = await runStep({
    lowerDirs: lowers,
    args: ["/bin/sh", "-c", script],
    env: [],
    cwd: "/",
    user: "",
    network: "default",
    tmpDir: tmp,
    ...more,
  });
  const shown = r.entries.map(show);
  await r.cleanup();
  return { ...r, shown };
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("runStep's root tests need root (as CI runs them)");
  work = await mkdtemp(join(tmpdir(), "tsbuild-run-test-"));
  tmp = join(work, "tmp");
  await mkdir(tmp);
  const dir = (path: string, mode = 0o755): LayerEntry => ({ path, type: "dir", mode, mtime: MTIME });
  const file = (path: string, content: string, mode = 0o644): LayerEntry => ({
    path,
    type: "file",
    mode,
    content,
    mtime: MTIME,
  });
  const base = [
    ...busyboxEntries(),
    file("etc/keep", "keep\n"),
    file("etc/gone", "bye\n"),
    dir("data"),
    file("data/a", "a\n"),
    dir("data/sub"),
    file("data/sub/deep", "deep\n"),
    dir("replace"),
    file("replace/old", "old\n"),
    dir("deep"),
    dir("deep/er"),
    file("deep/er/x", "x\n"),
  ];
  const second = [
    dir("deep"),
    dir("deep/er"),
    { path: "deep/er/.wh.x", type: "file", mtime: MTIME } as LayerEntry,
    dir("data"),
    { path: "data/.wh..wh..opq", type: "file", mtime: MTIME } as LayerEntry,
    file("data/only", "only\n"),
  ];
  const cache = new UnpackedLayers(join(work, "layers"));
  lowers = [];
  let parent: string | undefined;
  for (const [i, entries] of [base, second].entries()) {
    const blob = join(work, `layer${i}.tar.gz`);
    const id = await writeLayerFile(blob, entries);
    const chain = `sha256:${i}${id.slice(8, 70)}`;
    lowers.push(await cache.ensure(chain, parent, async () => createReadStream(blob)));
    parent = chain;
  }
});

/** pgrep lists the pids whose command line matches (pgrep itself excluded). */
function pgrep(pattern: string): string {
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" }).trim();
  } catch {
    return ""; // exit 1: none
  }
}

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("UnpackedLayers", () => {
  it("turns whiteouts into overlay form: 0/0 devices and the trusted opaque xattr", () => {
    const st = execFileSync("stat", ["-c", "%F %t:%T", join(lowers[1]!, "deep/er/x")], { encoding: "utf8" });
    expect(st.trim()).toBe("character special file 0:0");
    const x = execFileSync(
      "getfattr",
      ["--absolute-names", "-n", "trusted.overlay.opaque", join(lowers[1]!, "data")],
      {
        encoding: "utf8",
      },
    );
    expect(x).toContain('trusted.overlay.opaque="y"');
    expect(existsSync(join(lowers[1]!, "data/.wh..wh..opq"))).toBe(false);
  });

  it("unpacks a chain once and reuses it", async () => {
    const cache = new UnpackedLayers(join(work, "layers"));
    const again = await cache
      .ensure(`sha256:0${"0".repeat(63)}`, undefined, async () => {
        throw new Error("must not open");
      })
      .catch((e: Error) => e.message);
    expect(again).toContain("must not open");
    expect(
      await cache.ensure(lowers[0]!.split("/").pop()!, undefined, async () => {
        throw new Error("opened");
      }),
    ).toBe(lowers[0]);
  });
});

describe.each(["overlay", "fuse-overlayfs", "copy"] as SnapshotKind[])(
  "runStep as root (%s)",
  (snapshotter) => {
    const opts = { snapshotter };

    it("runs as the resolved user with the hostname and without leaking mount targets", async () => {
      const out: string[] = [];
      const r = await run("id; hostname; cat /etc/hosts >/dev/null", {
        ...opts,
        user: "app",
        onOutput: (c) => out.push(c.toString()),
      });
      expect(out.join("")).toBe("uid=1000(app) gid=1000(app) groups=50(staff),1000(app)\nbuildkitsandbox\n");
      // /proc, /dev, /sys and /etc/hosts did not exist in the rootfs: runc's mount points are not in the layer.
      expect(r.shown).toEqual([]);
      expect(r.changed).toBe(false);
    });

    it("deletes a lower file as a whiteout; metadata-only changes are full entries; unchanged copy-ups are dropped", async () => {
      const r = await run(
        "rm /etc/gone && chmod 600 /etc/passwd && chmod 644 /etc/keep && touch -d @1700000000 /etc/keep && mv /data/only /data/b && mv /data/b /data/only",
        opts,
      );
      expect(r.shown).toEqual([
        "dir data 0:0 755",
        "dir etc 0:0 755",
        "file etc/.wh.gone 0:0 0",
        `file etc/passwd 0:0 600 ${JSON.stringify(readFileSync(join(lowers[0]!, "etc/passwd"), "utf8"))}`,
      ]);
    });

    it("chown, hardlinks, symlinks, a replaced directory and a file turned into a directory", async () => {
      const r = await run(
        "echo new > /etc/new && chown 123:456 /etc/new && ln /etc/new /etc/link && ln -s ../etc/keep /bin/k && rm -rf /replace && mkdir /replace && echo n > /replace/n && rm /etc/keep && mkdir /etc/keep",
        opts,
      );
      const expected = [
        "dir bin 0:0 755",
        "symlink bin/k 0:0 777 -> ../etc/keep",
        "dir etc 0:0 755",
        "dir etc/keep 0:0 755",
        // A directory where a file was: opaque, as docker writes it (golden case run-file-dir-file).
        "file etc/keep/.wh..wh..opq 0:0 0",
        'file etc/link 123:456 644 "new\\n"',
        "hardlink etc/new 123:456 644 -> etc/link",
        "dir replace 0:0 755",
        ...(snapshotter === "copy" ? ["file replace/.wh.old 0:0 0"] : ["file replace/.wh..wh..opq 0:0 0"]),
        'file replace/n 0:0 644 "n\\n"',
      ];
      expect(r.shown).toEqual(expected);
    });

    it("sees the lowers' whiteouts and opaque directories", async () => {
      const out: string[] = [];
      await run("ls /deep/er /data; echo; ls /data/sub 2>&1 || true", {
        ...opts,
        onOutput: (c) => out.push(c.toString()),
      });
      expect(out.join("")).toMatch(/^\/data:\nonly\n\n\/deep\/er:\n\n.*No such file/);
    });

    it("keeps secrets, tmpfs, cache and bind mounts out of the layer", async () => {
      const cacheDir = join(work, `cache-${snapshotter}`);
      const ctx = join(work, `ctx-${snapshotter}`);
      await mkdir(cacheDir);
      await mkdir(ctx);
      execFileSync("sh", ["-c", `echo ctx > ${ctx}/f`]);
      const out: string[] = [];
      const r = await run(
        "cat /run/secrets/token; echo c >> /cache/c; echo t > /scratch/t; cat /ctx/f; echo w > /rw/w; cp /run/secrets/token /tmp/leak-check 2>/dev/null; rm -f /tmp/leak-check",
        {
          ...opts,
          mounts: [
            { type: "secret", target: "/run/secrets/token", content: "s3cr3t-value" },
            { type: "cache", target: "/cache", source: cacheDir },
            { type: "tmpfs", target: "/scratch" },
            { type: "bind", target: "/ctx", source: ctx },
            { type: "bind", target: "/rw", source: ctx, readwrite: true },
          ],
          onOutput: (c) => out.push(c.toString()),
        },
      );
      expect(out.join("")).toBe("s3cr3t-valuectx\n");
      // /tmp changed only by the copy that was removed again: its mtime, so it is in the layer.
      expect(r.shown).toEqual(["dir tmp 0:0 1777"]);
      expect(readFileSync(join(cacheDir, "c"), "utf8")).toBe("c\n");
      expect(existsSync(join(ctx, "w"))).toBe(false);
    });

    it("fails with the command, exit code and last output lines", async () => {
      // One stream: stdout and stderr are separate pipes, so their relative order is not kept.
      const err = await run("echo one; echo two; exit 3", opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunFailedError);
      const e = err as RunFailedError;
      expect(e.exitCode).toBe(3);
      expect(e.command).toEqual(["/bin/sh", "-c", "echo one; echo two; exit 3"]);
      expect(e.message).toBe(
        'process "/bin/sh -c echo one; echo two; exit 3" did not complete successfully: exit code: 3\none\ntwo',
      );
      expect(await readdir(tmp)).toEqual([]);
    });

    it("an abort kills the container and removes every mount and temp dir", async () => {
      const ac = new AbortController();
      const marker = `sleep ${300000 + (process.pid % 1000) * 10 + (snapshotter === "copy" ? 1 : 0)}`;
      const started = run(marker, { ...opts, signal: ac.signal });
      // Wait for the container's process (the copy snapshotter first copies the rootfs: slow on a busy machine).
      for (let i = 0; i < 600 && pgrep(marker) === ""; i++) await new Promise((r) => setTimeout(r, 100));
      expect(pgrep(marker)).not.toBe("");
      ac.abort(new Error("stop"));
      await expect(started).rejects.toThrow("stop");
      expect(pgrep(marker)).toBe("");
      expect(await readdir(tmp)).toEqual([]);
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(tmp);
    });
  },
);

describe("both snapshotters", () => {
  it("give identical entries for the same RUN", async () => {
    const script =
      "rm /etc/gone; echo x > /etc/x; chown 7:8 /etc/x; chmod 4755 /etc/x; mkdir -p /opt/a/b; ln -s /x /opt/l; rm -rf /deep; chmod 700 /data";
    const [a, b] = [
      await run(script, { snapshotter: "overlay" }),
      await run(script, { snapshotter: "copy" }),
    ];
    expect(a.shown).toEqual(b.shown);
    expect(a.shown).toContain("file .wh.deep 0:0 0");
    expect(a.shown).toContain('file etc/x 7:8 4755 "x\\n"');
  });
});

describe("mount targets that are symlinks in the image", () => {
  it.each(["overlay", "copy"] as SnapshotKind[])(
    "leave no stub where runc followed them (%s): /etc/resolv.conf -> ../run/systemd/resolve/…, /etc/hosts -> /run/…",
    async (snapshotter) => {
      const links = join(work, `links-${snapshotter}`);
      await mkdir(join(links, "etc"), { recursive: true });
      symlinkSync("../run/systemd/resolve/stub-resolv.conf", join(links, "etc/resolv.conf"));
      symlinkSync("/run/hosts-real", join(links, "etc/hosts"));
      const r = await run("cat /etc/resolv.conf /etc/hosts > /seen.txt", {
        snapshotter,
        lowerDirs: [...lowers, links],
      });
      expect(r.shown.map((s) => s.split(" ")[1])).toEqual(["seen.txt"]);
      expect(r.shown[0]).toContain("localhost");
    },
  );
});

describe("many layers", () => {
  it("runs on a merged copy when the lowers do not fit one overlay mount, with a warning", async () => {
    const cache = new UnpackedLayers(join(work, "many"));
    const dirs = [lowers[0]!];
    for (let i = 0; i < 70; i++) {
      const blob = join(work, `many-${i}.tar.gz`);
      const id = await writeLayerFile(blob, [
        { path: "many", type: "dir", mode: 0o755, mtime: MTIME },
        { path: `many/f${i}`, type: "file", content: `${i}\n`, mtime: MTIME },
      ]);
      dirs.push(
        await cache.ensure(`sha256:${id.slice(7, 60)}${String(i).padStart(11, "0")}`, undefined, async () =>
          createReadStream(blob),
        ),
      );
    }
    const out: string[] = [];
    const r = await runStep({
      lowerDirs: dirs,
      args: ["/bin/sh", "-c", "ls /many | wc -l; rm /many/f3"],
      env: [],
      cwd: "/",
      user: "",
      network: "default",
      snapshotter: "overlay",
      tmpDir: tmp,
      onOutput: (c) => out.push(c.toString()),
    });
    await r.cleanup();
    expect(out.join("").trim()).toBe("70");
    expect(r.snapshotter).toBe("copy");
    expect(r.warnings).toEqual([
      "71 layers do not fit one overlay mount: the step runs on a merged copy (slower)",
    ]);
    expect(r.entries.map(show)).toEqual(["dir many 0:0 755", "file many/.wh.f3 0:0 0"]);
  });
});

describe("a sandbox that cannot be set up", () => {
  it("is SANDBOX_FAILED with the mount's own words and a pointer to tsbuild doctor, leaving nothing behind", async () => {
    const err = await run("true", { lowerDirs: [join(work, "no-such-layer")], snapshotter: "overlay" }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "SANDBOX_FAILED" });
    expect((err as Error).message).toMatch(/^the sandbox could not be set up \(exit \d+\): .*mount.*/s);
    expect((err as Error).message).toMatch(
      /\(run `tsbuild doctor` to see what RUN needs here and how to fix it\)$/,
    );
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe("runc's own words", () => {
  it("a missing executable fails naming it; runc's warnings stay out of the output", async () => {
    const err = await runStep({
      lowerDirs: lowers,
      args: ["/no/such/binary"],
      env: [],
      cwd: "/",
      user: "",
      network: "default",
      tmpDir: tmp,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as RunFailedError).output).toMatch(
      /^runc run failed: unable to start container process: exec: "\/no\/such\/binary": stat \/no\/such\/binary: no such file or directory$/,
    );
  });
});

describe("a build killed outright", () => {
  it("takes its RUN's container with it (the helper is tied to the build's life)", async () => {
    const builder = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
    if (!existsSync(builder))
      throw new Error(`${builder} is missing: run pnpm build first (CI's setup does)`);
    const script = [
      `const { runStep } = await import(${JSON.stringify(builder)});`,
      `await runStep({ lowerDirs: ${JSON.stringify(lowers)}, args: ["/bin/sh", "-c", "sleep 304444"],`,
      `  env: [], cwd: "/", user: "", network: "default", tmpDir: ${JSON.stringify(work)} });`,
    ].join("\n");
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
    for (let i = 0; i < 100 && pgrep("sleep 304444") === ""; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(pgrep("sleep 304444")).not.toBe("");
    child.kill("SIGKILL");
    for (let i = 0; i < 50 && pgrep("sleep 304444") !== ""; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pgrep("sleep 304444")).toBe("");
  });
});

describe("network", () => {
  it("none: only a loopback, and it is up; the host's network by default", async () => {
    const script =
      "ip -o link | cut -d: -f2 | tr -d ' ' | grep -c . ; ping -c1 -W2 127.0.0.1 >/dev/null && echo lo-up";
    const seen: Record<string, string> = {};
    for (const network of ["none", "default"] as const) {
      const out: string[] = [];
      const r = await run(script, { network, onOutput: (c) => out.push(c.toString()) });
      expect(r.shown).toEqual([]);
      seen[network] = out.join("");
    }
    expect(seen.none).toBe("1\nlo-up\n");
    const hostLinks = execFileSync("ip", ["-o", "link"], { encoding: "utf8" }).trim().split("\n").length;
    expect(seen.default).toBe(`${hostLinks}\nlo-up\n`);
  });
});
