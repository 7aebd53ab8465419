import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createLayer, type LayerEntry, tarEntries } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../packages/cli/src/testing.js";
import { type DockerDaemon, startDockerd } from "../support/dockerd.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";

/**
 * Interoperability with docker itself: Debian's docker.io (20.10, BuildKit v0.8 inside dockerd),
 * a dockerd of our own (scripts/dockerd.sh: data root, exec root, pidfile and socket in a temp
 * dir, no bridge or iptables, stopped by PID) and the real docker-registry on loopback.
 * - docker load takes `tsbuild image save` of a built image (a RUN's whiteout included) and runs it;
 * - docker pull takes what `tsbuild push` pushed (same manifest digest and image id) and runs it;
 * - tsbuild pull takes what docker built and pushed, and a tsbuild RUN on it sees docker's files;
 * - `docker image history` and `tsbuild image history` print the same table for the same image;
 * - one Dockerfile without RUN built by both with SOURCE_DATE_EPOCH: the same layers. docker 20.10
 *   cannot give byte-identical layers: its BuildKit predates SOURCE_DATE_EPOCH, so every directory
 *   it creates, changes or copies from the context carries the build's clock and a context file
 *   newer than the epoch keeps its mtime; its tar headers add the host's user names and the
 *   file-type bits in the mode. So docker's layers are re-encoded with those normalised — a file's
 *   mtime clamped to SOURCE_DATE_EPOCH (what current BuildKit's rewrite-timestamp does), a
 *   directory's build-clock mtime replaced by the epoch, or for the one directory copied from the
 *   context (site/sub) by its mtime there; no user names; permission bits only — and must then have
 *   tsbuild's diffIDs. Everything else (which entries, their order, types, modes, owners, sizes,
 *   contents, link targets, xattrs, and every mtime docker took from the context or the ADDed tar)
 *   has to be equal for that.
 */

const exec = promisify(execFile);
const MINUTE = 60_000;
const EPOCH = 1_700_000_000;
/** OLD is the mtime of the context files: below EPOCH, so both builders keep it. */
const OLD = 1_600_000_000;

describe("docker interoperability (docker.io 20.10)", () => {
  let registry: TestRegistry;
  let dockerd: DockerDaemon;
  let work: string;
  let base: string;
  let appId: string;
  const APP = "interop/app:v1";
  const env = () => ({
    ...process.env,
    TSBUILD_ROOT: join(work, "store"),
    DOCKER_CONFIG: join(work, "tsbuild-docker-config"),
    SOURCE_DATE_EPOCH: String(EPOCH),
  });
  /** ts runs the tsbuild CLI in this process and fails with its stderr unless it exits 0. */
  const ts = async (args: string[]) => {
    const r = await runCli(args, { env: env() });
    if (r.code !== 0)
      throw new Error(`tsbuild ${args.join(" ")} exited ${r.code}:\n${r.stderr.slice(-4000)}`);
    return r.stdout;
  };
  const docker = (...args: string[]) => dockerd.docker(args).then((r) => r.stdout);
  /** forget removes images from docker (and BuildKit's cache), so the next pull or load brings every layer. */
  const forget = async (...refs: string[]) => {
    for (const ref of refs) await docker("image", "rm", "--force", ref).catch(() => {});
    await docker("builder", "prune", "--all", "--force");
  };

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("dockerd and runc need root: run as root, as CI does");
    work = await mkdtemp(join(tmpdir(), "tsbuild-interop-"));
    registry = await startRegistry();
    dockerd = await startDockerd(["--insecure-registry", registry.host]);

    // A busybox base (Debian's busybox-static and its applets), imported by tsbuild and pushed.
    const rootfs = join(work, "rootfs");
    for (const d of ["bin", "etc", "tmp", "root"]) await mkdir(join(rootfs, d), { recursive: true });
    await copyFile("/bin/busybox", join(rootfs, "bin/busybox"));
    const { stdout: applets } = await exec("/bin/busybox", ["--list"]);
    for (const a of applets.split("\n").filter((a) => a && a !== "busybox"))
      await symlink("busybox", join(rootfs, "bin", a));
    await writeFile(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    await writeFile(join(rootfs, "etc/group"), "root:x:0:\n");
    await exec("chmod", ["1777", join(rootfs, "tmp")]);
    base = `${registry.host}/library/busybox:latest`;
    await ts(["image", "import", "--change", 'CMD ["sh"]', rootfs, base]);
    await ts(["push", base]);
    await docker("pull", base);

    // The app tsbuild builds: a COPY, a RUN that adds a file and deletes one of the base's (a whiteout).
    const ctx = join(work, "app");
    await mkdir(ctx);
    await writeFile(join(ctx, "hello.txt"), "hello from the context\n");
    await writeFile(
      join(ctx, "Dockerfile"),
      [
        `FROM ${base}`,
        "COPY hello.txt /hello.txt",
        'RUN echo "made by a tsbuild RUN" > /ran.txt && rm /etc/group',
        "ENV GREETING=hi",
        "WORKDIR /app",
        'CMD ["sh", "-c", "cat /hello.txt /ran.txt; echo $GREETING from $(pwd); test -e /etc/group || echo no group file"]',
        "",
      ].join("\n"),
    );
    await ts(["build", "--tag", APP, "--build-arg", "SOURCE_DATE_EPOCH", ctx]);
    appId = (await ts(["image", "inspect", "--format", "{{.Id}}", APP])).trim();
  }, 10 * MINUTE);

  afterAll(async () => {
    const stops = [dockerd?.stop(), registry?.stop()];
    await Promise.allSettled(stops);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const APP_OUTPUT = "hello from the context\nmade by a tsbuild RUN\nhi from /app\nno group file\n";

  it("docker load takes a `tsbuild image save` archive of a built image, and docker run runs it", async () => {
    await forget(APP);
    const archive = join(work, "app.tar");
    await ts(["image", "save", "--output", archive, APP]);
    expect(await docker("load", "--input", archive)).toBe(`Loaded image: ${APP}\n`);
    expect((await docker("image", "inspect", "--format", "{{.Id}}", APP)).trim()).toBe(appId);
    expect(await docker("run", "--rm", "--network", "none", APP)).toBe(APP_OUTPUT);
  });

  it("docker pull takes what tsbuild pushed (same digest and id), and docker run runs it", async () => {
    const ref = `${registry.host}/interop/app:v1`;
    await ts(["tag", APP, ref]);
    const pushed = await ts(["push", ref]);
    const digest = pushed.match(/^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m)?.[1];
    expect(digest, pushed).toBeDefined();
    await forget(APP, ref);
    const pulled = await docker("pull", ref);
    expect(pulled).toContain(`Digest: ${digest}\n`);
    // Only the base was there already: the COPY, RUN and WORKDIR layers came from the registry.
    expect(pulled.match(/: Pull complete$/gm)).toHaveLength(3);
    expect(pulled.match(/: Already exists$/gm)).toHaveLength(1);
    expect((await docker("image", "inspect", "--format", "{{.Id}}", ref)).trim()).toBe(appId);
    expect((await docker("image", "inspect", "--format", "{{json .RepoDigests}}", ref)).trim()).toBe(
      JSON.stringify([`${registry.host}/interop/app@${digest}`]),
    );
    expect(await docker("run", "--rm", "--network", "none", ref)).toBe(APP_OUTPUT);
  });

  const DOCKER_APP = () => `${registry.host}/interop/from-docker:v1`;

  it("tsbuild pull takes what docker built and pushed, and a tsbuild RUN on it sees docker's files", async () => {
    const ctx = join(work, "docker-app");
    await mkdir(ctx);
    await writeFile(
      join(ctx, "Dockerfile"),
      `FROM ${base}\nRUN mkdir /made && echo docker > /made/by && rm /etc/group\nCMD ["cat", "/made/by"]\n`,
    );
    await docker("build", "--network", "none", "--tag", DOCKER_APP(), ctx);
    const pushed = await docker("push", DOCKER_APP());
    const digest = pushed.match(/^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m)?.[1];
    expect(digest, pushed).toBeDefined();
    const dockerId = (await docker("image", "inspect", "--format", "{{.Id}}", DOCKER_APP())).trim();

    const pulled = await ts(["pull", DOCKER_APP()]);
    expect(pulled).toContain(`Digest: ${digest}\n`);
    expect((await ts(["image", "inspect", "--format", "{{.Id}}", DOCKER_APP()])).trim()).toBe(dockerId);
    expect((await ts(["image", "inspect", "--format", "{{json .RepoDigests}}", DOCKER_APP()])).trim()).toBe(
      JSON.stringify([`${registry.host}/interop/from-docker@${digest}`]),
    );
    // A RUN on docker's image: docker's file is there and the base file docker deleted is gone.
    const check = join(work, "check");
    await mkdir(check);
    await writeFile(
      join(check, "Dockerfile"),
      `FROM ${DOCKER_APP()}\nRUN test "$(cat /made/by)" = docker && test ! -e /etc/group && echo checked > /checked\n`,
    );
    await ts(["build", "--tag", "interop/checked:v1", check]);
  });

  /** historyCells splits a history table at its header's column offsets (cells may be empty). */
  const historyCells = (table: string, columns: readonly string[]) => {
    const [header = "", ...rows] = table.trimEnd().split("\n");
    const names = ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"];
    const at = names.map((h) => header.indexOf(h));
    expect(
      at.every((x) => x >= 0),
      header,
    ).toBe(true);
    return [header, ...rows].map((row) =>
      columns.map((c) => {
        const i = names.indexOf(c);
        return row.slice(at[i], at[i + 1]).trim();
      }),
    );
  };

  it("docker image history and tsbuild image history print the same table for the same image", async () => {
    // tsbuild's image (created at SOURCE_DATE_EPOCH) as docker loaded it: every column, CREATED included.
    await forget(APP);
    const archive = join(work, "app-history.tar");
    await ts(["image", "save", "--output", archive, APP]);
    await docker("load", "--input", archive);
    for (const flags of [[], ["--no-trunc"], ["--human=false"]]) {
      const fromDocker = await docker("image", "history", ...flags, APP);
      expect(await ts(["image", "history", ...flags, APP])).toBe(fromDocker);
    }
    const rows = historyCells(await docker("image", "history", APP), ["IMAGE", "CREATED BY", "SIZE"]);
    expect(rows.map((r) => r[1])).toEqual([
      "CREATED BY",
      'CMD ["sh" "-c" "cat /hello.txt /ran.txt; ech…',
      "WORKDIR /app",
      "ENV GREETING=hi",
      'RUN /bin/sh -c echo "made by a tsbuild RUN" …',
      "COPY hello.txt /hello.txt # buildkit",
      "",
    ]);
    expect(rows[1]?.[0]).toBe(appId.slice(7, 19));

    // docker's image as tsbuild pulled it and as docker has it after pulling it afresh (a layer's SIZE
    // is what docker counts when it unpacks a layer; the image BuildKit built is counted without
    // symlinks, so docker's own history of it can differ until it is pulled). CREATED is "N seconds
    // ago" of a build just now and may tick between the two calls: the other columns are compared.
    await forget(DOCKER_APP());
    await docker("pull", DOCKER_APP());
    const columns = ["IMAGE", "CREATED BY", "SIZE", "COMMENT"];
    for (const flags of [[], ["--no-trunc"]]) {
      const fromDocker = historyCells(await docker("image", "history", ...flags, DOCKER_APP()), columns);
      expect(historyCells(await ts(["image", "history", ...flags, DOCKER_APP()]), columns)).toEqual(
        fromDocker,
      );
    }
  });

  it("one Dockerfile without RUN, built by both with SOURCE_DATE_EPOCH: the same diffIDs once docker 20.10's build-time mtimes, user names and mode type bits are normalised", async () => {
    const ctx = join(work, "same");
    await mkdir(join(ctx, "site/sub"), { recursive: true });
    await writeFile(join(ctx, "hello.txt"), "hello\n");
    await writeFile(join(ctx, "fresh.txt"), "changed after the epoch\n");
    await writeFile(join(ctx, "site/index.html"), "<h1>interop</h1>\n");
    await writeFile(join(ctx, "site/sub/deep.txt"), "deep\n", { mode: 0o600 });
    await symlink("index.html", join(ctx, "site/home.html"));
    const pkg = join(work, "pkg-src");
    await mkdir(join(pkg, "pkg/bin"), { recursive: true });
    await writeFile(join(pkg, "pkg/bin/tool"), "#!/bin/sh\necho tool\n", { mode: 0o755 });
    await writeFile(join(pkg, "pkg/data.txt"), "data\n");
    await exec("tar", [
      ...["-C", pkg, "--mtime", `@${OLD}`, "--owner", "123", "--group", "456", "--numeric-owner"],
      ...["-czf", join(ctx, "pkg.tar.gz"), "pkg"],
    ]);
    await writeFile(
      join(ctx, "Dockerfile"),
      [
        `FROM ${base}`,
        "ENV GREETING=hello PATH=/opt/pkg/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "COPY hello.txt /hello.txt",
        "COPY hello.txt fresh.txt /etc/",
        "ADD pkg.tar.gz /opt/",
        "WORKDIR /app",
        "COPY site/ ./site/",
        "COPY --chown=1000:1000 hello.txt /srv/owned.txt",
        "LABEL org.example.kind=interop",
        "EXPOSE 8080",
        "USER 1000",
        'CMD ["cat", "/hello.txt"]',
        "",
      ].join("\n"),
    );
    // Every context file gets the old mtime (symlinks too), except fresh.txt: later than the epoch.
    await exec("find", [ctx, "-exec", "touch", "-h", "-d", `@${OLD}`, "{}", "+"]);
    const before = Math.floor(Date.now() / 1000);
    await utimes(join(ctx, "fresh.txt"), before, before);

    await docker(
      "build",
      "--network",
      "none",
      "--build-arg",
      `SOURCE_DATE_EPOCH=${EPOCH}`,
      "-t",
      "same:docker",
      ctx,
    );
    await ts(["build", "--build-arg", "SOURCE_DATE_EPOCH", "--tag", "same:tsbuild", ctx]);
    const fromDocker = await readArchive(join(work, "same-docker"), (out) =>
      docker("save", "--output", out, "same:docker"),
    );
    const fromTsbuild = await readArchive(join(work, "same-tsbuild"), (out) =>
      ts(["image", "save", "--output", out, "same:tsbuild"]),
    );

    // The configs: the same container config, layers and history shape; created is the epoch in tsbuild's.
    const pick = (c: ImageJson) => {
      const { Env, Cmd, WorkingDir, User, Labels, ExposedPorts, Entrypoint } = c.config.config;
      return { Env, Cmd, WorkingDir, User, Labels, ExposedPorts, Entrypoint, os: c.config.os };
    };
    expect(pick(fromTsbuild)).toEqual(pick(fromDocker));
    expect(fromTsbuild.config.history.map((h) => h.empty_layer === true)).toEqual(
      fromDocker.config.history.map((h) => h.empty_layer === true),
    );
    expect(fromTsbuild.config.created).toBe("2023-11-14T22:13:20Z");
    const tsDiffIds = fromTsbuild.config.rootfs.diff_ids;
    expect(tsDiffIds).toHaveLength(fromDocker.layers.length);
    // The base layer came from the registry: byte for byte the same.
    expect(fromDocker.config.rootfs.diff_ids[0]).toBe(tsDiffIds[0]);

    for (let i = 1; i < tsDiffIds.length; i++) {
      const tsEntries = await layerEntries(fromTsbuild.layers[i]!);
      expect(tsEntries.filter((e) => e.mtime > EPOCH)).toEqual([]);
      const raw = await layerEntries(fromDocker.layers[i]!);
      // Past the epoch in docker's layer means the clock of this run (fresh.txt's or the build's).
      expect(raw.filter((e) => e.mtime > EPOCH && e.mtime < before)).toEqual([]);
      const dockerEntries = normalise(raw);
      // Readable first (a failure names the entry), then the diffID of docker's layer re-encoded.
      expect(tsEntries.map(row), `layer ${i}`).toEqual(dockerEntries.map(row));
      const reencoded = createLayer(
        { entries: dockerEntries },
        { compression: "none", sourceDateEpoch: EPOCH },
      );
      reencoded.stream.resume();
      expect((await reencoded.result).diffId, `layer ${i}`).toBe(tsDiffIds[i]);
    }
    // What the normalisation covers is really there in docker's layers (else the comparison would be raw).
    const dockerRaw = (await Promise.all(fromDocker.layers.slice(1).map(layerEntries))).flat();
    expect(dockerRaw.some((e) => e.mtime > EPOCH)).toBe(true);
    expect(fromDocker.config.rootfs.diff_ids.slice(1)).not.toEqual(tsDiffIds.slice(1));
  });
});

interface ImageJson {
  config: {
    created: string;
    os: string;
    config: Record<string, unknown>;
    rootfs: { diff_ids: string[] };
    history: { empty_layer?: boolean }[];
  };
  layers: string[];
}

/** readArchive saves an image with `save(file)`, unpacks the docker-archive and returns its config and layer files. */
async function readArchive(dir: string, save: (file: string) => Promise<unknown>): Promise<ImageJson> {
  await mkdir(dir);
  await save(join(dir, "image.tar"));
  await exec("tar", ["-C", dir, "-xf", join(dir, "image.tar")]);
  const [m] = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as {
    Config: string;
    Layers: string[];
  }[];
  if (!m) throw new Error(`no manifest.json entry in ${dir}`);
  return {
    config: JSON.parse(await readFile(join(dir, m.Config), "utf8")),
    layers: m.Layers.map((l) => join(dir, l)),
  };
}

interface RawEntry extends LayerEntry {
  mtime: number;
  digest: string;
}

/** layerEntries reads a layer tar (plain or gzip) into entries with their contents. */
async function layerEntries(file: string): Promise<RawEntry[]> {
  const out: RawEntry[] = [];
  for await (const { info, body } of tarEntries(createReadStream(file))) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    const content = Buffer.concat(chunks);
    if (!info.type) throw new Error(`${file}: entry ${info.name} of type ${info.rawType}`);
    out.push({
      path: info.name.replace(/^\.?\//, "").replace(/\/$/, ""),
      type: info.type,
      mode: info.mode & 0o7777,
      uid: info.uid,
      gid: info.gid,
      mtime: info.mtime,
      ...(info.linkname !== undefined && { linkname: info.linkname }),
      ...(Object.keys(info.xattrs).length > 0 && { xattrs: info.xattrs }),
      ...(info.type === "file" && { content }),
      digest: info.type === "file" ? createHash("sha256").update(content).digest("hex").slice(0, 16) : "",
    });
  }
  return out;
}

/** COPIED_DIRS are the directories the build copies from the context, with their mtime there. */
const COPIED_DIRS = new Map([["app/site/sub", OLD]]);

/**
 * normalise applies SOURCE_DATE_EPOCH to docker 20.10's entries: an mtime past the epoch is the
 * clock of this run (checked by the caller) and becomes the epoch, as rewrite-timestamp clamps it,
 * except on a directory copied from the context, which keeps its mtime there.
 */
function normalise(entries: RawEntry[]): RawEntry[] {
  return entries.map((e) =>
    e.mtime <= EPOCH ? e : { ...e, mtime: (e.type === "dir" && COPIED_DIRS.get(e.path)) || EPOCH },
  );
}

function row(e: RawEntry): string {
  const owner = `${e.uid}:${e.gid}`;
  const link = e.linkname ? ` -> ${e.linkname}` : "";
  const xattrs = e.xattrs ? ` xattrs=${Object.keys(e.xattrs).sort().join(",")}` : "";
  return `${e.path} ${e.type} ${(e.mode ?? 0).toString(8)} ${owner} ${e.mtime} ${e.digest}${link}${xattrs}`;
}
