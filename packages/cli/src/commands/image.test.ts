import { execFileSync } from "node:child_process";
import { chmod, mkdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { canonicalJson, digestOf, hostPlatform, ImageStore, MediaType } from "@tsbuild/oci";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../testing.js";

const HOUR = 3600;
const epochTwoHoursAgo = () => String(Math.floor(Date.now() / 1000) - 2 * HOUR);

async function makeTree(): Promise<string> {
  const dir = await tempDir("tsbuild-tree-");
  await mkdir(join(dir, "etc"));
  await writeFile(join(dir, "etc", "hello"), "hello world\n");
  await writeFile(join(dir, "run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(join(dir, "run.sh"), 0o755);
  await symlink("etc/hello", join(dir, "link"));
  return dir;
}

async function tsb(root: string, args: string[], options: Parameters<typeof runCli>[1] = {}) {
  return runCli(["--root", root, ...args], options);
}

async function importTree(root: string, name?: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await tsb(root, ["image", "import", await makeTree(), ...(name ? [name] : [])], {
    env: { ...process.env, SOURCE_DATE_EPOCH: epochTwoHoursAgo(), ...env },
  });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

async function readImage(root: string, name: string) {
  const store = await ImageStore.open({ root });
  try {
    return await store.resolve(name);
  } finally {
    await store.close();
  }
}

describe("image import", () => {
  it("makes a one-layer image from a directory and prints its id", async () => {
    const root = await tempDir();
    const id = await importTree(root, "custom-nginx:packaged", { SOURCE_DATE_EPOCH: "1700000000" });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const img = await readImage(root, "custom-nginx:packaged");
    expect(img.id).toBe(id);
    expect(img.names).toEqual(["docker.io/library/custom-nginx:packaged"]);
    expect(img.manifest.layers).toHaveLength(1);
    expect(img.manifest.layers[0]!.mediaType).toBe(MediaType.OciLayerGzip);
    const host = hostPlatform();
    expect(img.config).toMatchObject({
      os: host.os,
      architecture: host.architecture,
      created: "2023-11-14T22:13:20Z",
      history: [{ created: "2023-11-14T22:13:20Z", comment: "Imported from -" }],
    });
    expect(img.config.rootfs.diff_ids).toHaveLength(1);
  });

  it("gives the same id for the same tree after touch when SOURCE_DATE_EPOCH is set", async () => {
    const root = await tempDir();
    const dir = await makeTree();
    const env = { ...process.env, SOURCE_DATE_EPOCH: "1600000000" };
    const a = await tsb(root, ["import", dir, "a"], { env });
    const later = new Date();
    for (const p of ["etc", "etc/hello", "run.sh", ""]) await utimes(join(dir, p), later, later);
    const b = await tsb(root, ["import", dir, "b"], { env });
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  it("reads plain and gzip tarballs, from a file or stdin, to the same layer", async () => {
    const root = await tempDir();
    const dir = await makeTree();
    const work = await tempDir();
    const tarPath = join(work, "rootfs.tar");
    execFileSync("tar", ["-C", dir, "-cf", tarPath, "."]);
    const tar = await readFile(tarPath);
    await writeFile(join(work, "rootfs.tar.gz"), gzipSync(tar));
    const env = { ...process.env, SOURCE_DATE_EPOCH: "1600000000" };
    const plain = await tsb(root, ["import", tarPath, "plain"], { env });
    const gz = await tsb(root, ["import", join(work, "rootfs.tar.gz"), "gz"], { env });
    const stdin = await tsb(root, ["import", "-", "stdin"], { env, stdin: gzipSync(tar) });
    expect([plain.code, gz.code, stdin.code]).toEqual([0, 0, 0]);
    expect(gz.stdout).toBe(plain.stdout);
    expect(stdin.stdout).toBe(plain.stdout);
    const img = await readImage(root, "stdin");
    const store = await ImageStore.open({ root });
    const layerBytes = await store.layout.readBlob(img.manifest.layers[0]!.digest);
    await store.close();
    expect(digestOf(gunzip(layerBytes))).toBe(img.config.rootfs.diff_ids[0]);
    expect(digestOf(tar)).toBe(img.config.rootfs.diff_ids[0]);
  });

  it("takes -m and --platform", async () => {
    const root = await tempDir();
    const r = await tsb(root, [
      "image",
      "import",
      "-m",
      "my base",
      "--platform",
      "linux/arm64",
      await makeTree(),
      "x",
    ]);
    expect(r.code).toBe(0);
    const img = await readImage(root, "x");
    expect(img.config).toMatchObject({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(img.config.history?.[0]?.comment).toBe("my base");
  });

  it.each([
    [
      "a file that is not a tar",
      async (w: string) => {
        await writeFile(
          join(w, "junk"),
          "this is not a tarball at all, just some text that goes on".repeat(20),
        );
        return join(w, "junk");
      },
      /not a valid tar|cannot read tar/,
    ],
    ["a missing path", async (w: string) => join(w, "nope"), /cannot read import source/],
  ])("fails on %s with exit 1 and stores nothing", async (_n, make, message) => {
    const root = await tempDir();
    const work = await tempDir();
    const r = await tsb(root, ["import", await make(work), "bad"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: /);
    expect(r.stderr).toMatch(message);
    expect((await tsb(root, ["images", "-q"])).stdout).toBe("");
  });

  it("rejects a bad name before doing any work", async () => {
    const root = await tempDir();
    const r = await tsb(root, ["import", await makeTree(), "Bad:Name:x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: .*(invalid|reference)/i);
  });

  it("rejects a junk SOURCE_DATE_EPOCH as a usage error", async () => {
    const root = await tempDir();
    const r = await tsb(root, ["import", await makeTree(), "x"], {
      env: { ...process.env, SOURCE_DATE_EPOCH: "soon" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SOURCE_DATE_EPOCH");
  });
});

function gunzip(b: Buffer): Buffer {
  return execFileSync("gzip", ["-dc"], { input: b });
}

describe("image ls / images", () => {
  let root: string;
  let id: string;
  let danglingId: string;
  beforeAll(async () => {
    root = await tempDir();
    id = await importTree(root, "custom-nginx:packaged");
    await tsb(root, ["tag", "custom-nginx:packaged", "localhost:5000/team/app:v1"]);
    danglingId = await importTree(root, undefined, {
      SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000) - 3 * 86400),
    });
  });

  it("prints docker's table with familiar names, <none> for dangling, newest first", async () => {
    const r = await tsb(root, ["images"]);
    expect(r.code).toBe(0);
    const short = id.slice(7, 19);
    const size = (await tsb(root, ["image", "ls", "--format", "{{.Size}}", "custom-nginx"])).stdout.trim();
    expect(size).toMatch(/^\d+(\.\d+)?[kM]?B$/);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^REPOSITORY\s{3,}TAG\s{3,}IMAGE ID\s{3,}CREATED\s{3,}SIZE$/);
    expect(r.stdout).toContain(`custom-nginx              packaged   ${short}   2 hours ago   ${size}\n`);
    expect(r.stdout).toContain(`localhost:5000/team/app   v1         ${short}   2 hours ago   ${size}\n`);
    expect(lines[3]).toMatch(new RegExp(`^<none>\\s+<none>\\s+${danglingId.slice(7, 19)}\\s+3 days ago\\s+`));
    expect(lines).toHaveLength(5);
  });

  it("-q prints short ids, --no-trunc full ids", async () => {
    const q = await tsb(root, ["image", "ls", "-q"]);
    expect(q.stdout).toBe(`${id.slice(7, 19)}\n${id.slice(7, 19)}\n${danglingId.slice(7, 19)}\n`);
    const full = await tsb(root, ["images", "-q", "--no-trunc"]);
    expect(full.stdout.split("\n")[0]).toBe(id);
  });

  it("filters by REPOSITORY[:TAG] with wildcards, and by dangling", async () => {
    const f = async (...args: string[]) =>
      (await tsb(root, ["images", "--format", "{{.Repository}}:{{.Tag}}", ...args])).stdout;
    expect(await f("custom-nginx")).toBe("custom-nginx:packaged\n");
    expect(await f("docker.io/library/custom-nginx:packaged")).toBe("custom-nginx:packaged\n");
    expect(await f("custom-nginx:other")).toBe("");
    expect(await f("localhost:5000/team/*")).toBe("localhost:5000/team/app:v1\n");
    expect(await f("*")).toBe("custom-nginx:packaged\n");
    expect(await f("--filter", "dangling=true")).toBe("<none>:<none>\n");
    expect(await f("--filter", "reference=custom-*")).toBe("custom-nginx:packaged\n");
  });

  it("--digests adds a DIGEST column", async () => {
    const r = await tsb(root, ["images", "--digests", "custom-nginx"]);
    expect(r.stdout.split("\n")[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(r.stdout.split("\n")[1]).toMatch(/^custom-nginx\s+packaged\s+<none>\s+[0-9a-f]{12}\s/);
  });

  it("--format json prints docker's fields, one object per line", async () => {
    const r = await tsb(root, ["images", "--format", "json", "custom-nginx"]);
    expect(r.stdout.endsWith("}\n")).toBe(true);
    expect(r.stdout).toContain('"Digest":"\\u003cnone\\u003e"');
    const obj = JSON.parse(r.stdout);
    expect(Object.keys(obj)).toEqual([
      "Containers",
      "CreatedAt",
      "CreatedSince",
      "Digest",
      "ID",
      "Repository",
      "SharedSize",
      "Size",
      "Tag",
      "UniqueSize",
      "VirtualSize",
    ]);
    expect(obj).toMatchObject({
      ID: id.slice(7, 19),
      Repository: "custom-nginx",
      Tag: "packaged",
      CreatedSince: "2 hours ago",
    });
    expect(obj.CreatedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+/);
  });

  it("a table template gets headers", async () => {
    const r = await tsb(root, ["images", "--format", "table {{.ID}}\\t{{.Repository}}", "custom-nginx"]);
    expect(r.stdout).toBe(`IMAGE ID       REPOSITORY\n${id.slice(7, 19)}   custom-nginx\n`);
  });

  it("usage errors exit 2", async () => {
    for (const args of [
      ["images", "--bogus"],
      ["images", "--filter", "nonsense"],
      ["images", "--format", "{{if .X}}"],
    ]) {
      const r = await tsb(root, args);
      expect(r.code, args.join(" ")).toBe(2);
    }
  });
});

describe("image tag / rm / rmi", () => {
  it("tags, untags and deletes like docker", async () => {
    const root = await tempDir();
    const id = await importTree(root, "app:1");
    expect((await tsb(root, ["image", "tag", "app:1", "app:2"])).code).toBe(0);
    expect((await tsb(root, ["tag", id.slice(7, 19), "other"])).code).toBe(0);
    const names = (await tsb(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout;
    expect(names.split("\n").sort().join(",")).toBe(",app:1,app:2,other:latest");

    const un = await tsb(root, ["rmi", "app:1"]);
    expect(un).toEqual({ code: 0, stdout: "Untagged: app:1\n", stderr: "" });

    const conflict = await tsb(root, ["image", "rm", id.slice(7, 19)]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^Error: .*must be forced.*multiple repositories/);

    const forced = await tsb(root, ["image", "rm", "-f", id]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(`Untagged: app:2\nUntagged: other:latest\nDeleted: ${id}\n`);
    expect((await tsb(root, ["images", "-q"])).stdout).toBe("");
  });

  it("reports each missing image, still removes the rest, exits 1", async () => {
    const root = await tempDir();
    const id = await importTree(root, "keep-going");
    const r = await tsb(root, ["rmi", "nope", "keep-going"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: No such image: nope\n");
    expect(r.stdout).toBe(`Untagged: keep-going:latest\nDeleted: ${id}\n`);
  });

  it("tag of a missing image fails; missing arguments are usage errors", async () => {
    const root = await tempDir();
    const r = await tsb(root, ["tag", "ghost", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: No such image: ghost\n");
    expect((await tsb(root, ["tag", "only-one"])).code).toBe(2);
    expect((await tsb(root, ["rmi"])).code).toBe(2);
  });
});

describe("image prune", () => {
  async function withDangling(): Promise<{ root: string; dangling: string; tagged: string }> {
    const root = await tempDir();
    const dangling = await importTree(root, undefined, { SOURCE_DATE_EPOCH: "1500000000" });
    const tagged = await importTree(root, "tagged");
    return { root, dangling, tagged };
  }

  it("asks first and does nothing on no", async () => {
    const { root } = await withDangling();
    const r = await tsb(root, ["image", "prune"], { stdin: "n\n" });
    expect(r.stdout).toBe(
      "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] Total reclaimed space: 0B\n",
    );
    expect((await tsb(root, ["images", "-q"])).stdout.split("\n")).toHaveLength(3);
  });

  it("removes dangling images on yes and reports the space", async () => {
    const { root, dangling, tagged } = await withDangling();
    const r = await tsb(root, ["image", "prune"], { stdin: "y\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^WARNING! This will remove all dangling images.\\nAre you sure you want to continue\\? \\[y/N\\] Deleted Images:\\ndeleted: ${dangling}\\n\\nTotal reclaimed space: \\d+(\\.\\d+)?k?B\\n$`,
      ),
    );
    expect((await tsb(root, ["images", "-q", "--no-trunc"])).stdout).toBe(`${tagged}\n`);
  });

  it("-a -f removes every image without asking", async () => {
    const { root, dangling, tagged } = await withDangling();
    const r = await tsb(root, ["image", "prune", "-a", "-f"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Deleted Images:\n");
    expect(r.stdout).toContain("untagged: tagged:latest\n");
    expect(r.stdout).toContain(`deleted: ${dangling}\n`);
    expect(r.stdout).toContain(`deleted: ${tagged}\n`);
    expect((await tsb(root, ["images", "-q"])).stdout).toBe("");
    expect(r.stdout).not.toContain("Total reclaimed space: 0B");
  });

  it("-a without -f warns about all images", async () => {
    const { root } = await withDangling();
    const r = await tsb(root, ["image", "prune", "-a"], { stdin: "" });
    expect(r.stdout).toContain(
      "WARNING! This will remove all images without at least one container associated to them.",
    );
  });
});

describe("image history", () => {
  it("lists steps newest first with <missing>, truncation and sizes", async () => {
    const root = await tempDir();
    await importTree(root, "base");
    const store = await ImageStore.open({ root });
    const base = await store.resolve("base");
    const longCmd = `/bin/sh -c apt-get update && apt-get install -y\tcurl ca-certificates && rm -rf /var/lib/apt/lists/*`;
    const config = {
      ...base.config,
      history: [
        ...(base.config.history ?? []),
        { created: base.config.created, created_by: longCmd, empty_layer: true, comment: "step" },
      ],
    };
    const cfg = canonicalJson(config);
    const child = await store.addImage({
      manifest: {
        ...base.manifest,
        config: { ...base.manifest.config, digest: digestOf(cfg), size: cfg.length },
      },
      config: cfg,
      names: ["child"],
    });
    await store.close();

    const r = await tsb(root, ["history", "child"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    const cut = `${longCmd.replace(/\t/g, " ").slice(0, 44)}…`;
    expect(lines[1]).toMatch(
      new RegExp(`^${child.id.slice(7, 19)}\\s+2 hours ago\\s+${escapeRe(cut)}\\s+0B\\s+step$`),
    );
    // docker's SIZE counts the files (12 + 18 bytes) and the symlink target (9), not the tar or gzip blob.
    expect(lines[2]).toMatch(/^<missing>\s+2 hours ago\s+39B\s+Imported from -$/);

    const full = await tsb(root, ["image", "history", "--no-trunc", "child"]);
    expect(full.stdout).toContain(longCmd.replace(/\t/g, " "));
    expect(full.stdout).toContain(child.id);

    expect((await tsb(root, ["history", "-q", "child"])).stdout).toBe(
      `${child.id.slice(7, 19)}\n<missing>\n`,
    );
    const json = (await tsb(root, ["history", "--format", "json", "child"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({
      ID: child.id.slice(7, 19),
      Comment: "step",
      Size: "0B",
      CreatedSince: "2 hours ago",
    });
    expect(Object.keys(json[0]).sort()).toEqual([
      "Comment",
      "CreatedAt",
      "CreatedBy",
      "CreatedSince",
      "ID",
      "Size",
    ]);

    const missing = await tsb(root, ["history", "nope"]);
    expect(missing).toMatchObject({ code: 1, stderr: "Error: No such image: nope\n" });
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("image inspect", () => {
  it("prints a JSON array like docker, --format templates, and errors for missing images", async () => {
    const root = await tempDir();
    const id = await importTree(root, "custom-nginx:packaged");
    const r = await tsb(root, ["image", "inspect", "custom-nginx:packaged"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("[\n    {\n")).toBe(true);
    const [obj] = JSON.parse(r.stdout);
    expect(obj).toMatchObject({ Id: id, RepoTags: ["custom-nginx:packaged"], Os: hostPlatform().os });
    expect(obj.RootFS.Layers).toHaveLength(1);

    const f = await tsb(root, [
      "inspect",
      "--format",
      "{{.Id}} {{.Os}}/{{.Architecture}} {{json .RepoTags}}",
      id.slice(7, 15),
    ]);
    expect(f.stdout).toBe(
      `${id} ${hostPlatform().os}/${hostPlatform().architecture} ["custom-nginx:packaged"]\n`,
    );

    const miss = await tsb(root, ["inspect", "custom-nginx:packaged", "ghost"]);
    expect(miss.code).toBe(1);
    expect(miss.stderr).toBe("Error: No such image: ghost\n");
    expect(JSON.parse(miss.stdout)).toHaveLength(1);
  });
});

describe("top level", () => {
  it("unknown commands and subcommands exit 2", async () => {
    const root = await tempDir();
    for (const args of [["bogus"], ["image", "bogus"], ["image"], []]) {
      const r = await tsb(root, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
    }
  });
});

describe("image save / load", () => {
  it("save -o writes an archive that load reads back with the same ids and names", async () => {
    const root = await tempDir();
    const id = await importTree(root, "app:1");
    await tsb(root, ["tag", "app:1", "app:2"]);
    const work = await tempDir();
    const out = join(work, "app.tar");
    const saved = await tsb(root, ["image", "save", "-o", out, "app"]);
    expect(saved).toEqual({ code: 0, stdout: "", stderr: "" });
    const other = await tempDir();
    const loaded = await tsb(other, ["load", "-i", out]);
    expect(loaded.code).toBe(0);
    expect(loaded.stdout.split("\n").sort().join("|")).toBe("|Loaded image: app:1|Loaded image: app:2");
    expect((await tsb(other, ["images", "-q", "--no-trunc"])).stdout).toBe(`${id}\n${id}\n`);
  });

  it("save to stdout and load from stdin; by id the image has no names", async () => {
    const root = await tempDir();
    const id = await importTree(root, "app:1");
    const { PassThrough } = await import("node:stream");
    const { run } = await import("../cli.js");
    const chunks: Buffer[] = [];
    const stdout = new PassThrough();
    stdout.on("data", (c: Buffer) => chunks.push(c));
    const code = await run(["--root", root, "save", id.slice(7, 19)], { stdout, stderr: new PassThrough() });
    expect(code).toBe(0);
    const tar = Buffer.concat(chunks);
    expect(tar.length % 512).toBe(0);
    const other = await tempDir();
    const loaded = await tsb(other, ["image", "load"], { stdin: tar });
    expect(loaded).toEqual({ code: 0, stdout: `Loaded image ID: ${id}\n`, stderr: "" });
  });

  it("load says when a name moves off an older image; -q is quiet", async () => {
    const root = await tempDir();
    await importTree(root, "app:1", { SOURCE_DATE_EPOCH: "1000" });
    const work = await tempDir();
    const old = join(work, "old.tar");
    await tsb(root, ["save", "-o", old, "app:1"]);
    const other = await tempDir();
    const newer = await importTree(other, "app:1", { SOURCE_DATE_EPOCH: "2000" });
    void newer;
    const r = await tsb(other, ["load", "-i", old]);
    expect(r.stdout).toMatch(
      /^The image app:1 already exists, renaming the old one with ID sha256:[0-9a-f]{64} to empty string\nLoaded image: app:1\n$/,
    );
    expect((await tsb(other, ["load", "-q", "-i", old])).stdout).toBe("");
  });

  it("loads an OCI archive written by skopeo (same layers)", async () => {
    const root = await tempDir();
    await importTree(root, "app:1");
    const work = await tempDir();
    await tsb(root, ["save", "-o", join(work, "d.tar"), "app:1"]);
    execFileSync(
      "skopeo",
      ["copy", `docker-archive:${join(work, "d.tar")}`, `oci-archive:${join(work, "o.tar")}`],
      {
        stdio: "ignore",
      },
    );
    const other = await tempDir();
    const r = await tsb(other, ["load", "-i", join(work, "o.tar")]);
    expect(r.code).toBe(0);
    const layers = async (dir: string, image: string) =>
      (await tsb(dir, ["inspect", "--format", "{{json .RootFS.Layers}}", image])).stdout;
    const loadedId = (await tsb(other, ["images", "-a", "-q", "--no-trunc"])).stdout.trim();
    expect(loadedId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await layers(other, loadedId)).toBe(await layers(root, "app:1"));
  });

  it("errors: missing image, junk archive, missing file", async () => {
    const root = await tempDir();
    const work = await tempDir();
    const missing = await tsb(root, ["save", "-o", join(work, "x.tar"), "ghost"]);
    expect(missing).toMatchObject({ code: 1, stderr: "Error: No such image: ghost\n" });
    await writeFile(join(work, "junk.tar"), "not an archive".repeat(100));
    const junk = await tsb(root, ["load", "-i", join(work, "junk.tar")]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/^Error: /);
    expect((await tsb(root, ["load", "-i", join(work, "nope.tar")])).code).toBe(1);
    expect((await tsb(root, ["save"])).code).toBe(2);
  });
});

describe("more docker details", () => {
  it("rmi of a pulled image also untags repo@digest", async () => {
    const root = await tempDir();
    const id = await importTree(root, "nginx:1");
    const store = await ImageStore.open({ root });
    const img = await store.resolve("nginx:1");
    const manifest = await store.layout.readBlob(img.manifestDigest);
    await store.addImage({ manifest, names: ["nginx:1"], repoDigests: true });
    await store.close();
    const r = await tsb(root, ["rmi", "nginx:1"]);
    expect(r.stdout).toBe(`Untagged: nginx:1\nUntagged: nginx@${img.manifestDigest}\nDeleted: ${id}\n`);
  });

  it("history -H=false prints raw sizes and RFC 3339 dates", async () => {
    const root = await tempDir();
    await importTree(root, "x", { SOURCE_DATE_EPOCH: "1700000000" });
    const r = await tsb(root, ["history", "--human=false", "--format", "{{.CreatedSince}}|{{.Size}}", "x"]);
    expect(r.stdout).toMatch(/^2023-11-14T22:13:20Z\|\d+\n$/);
    const short = await tsb(root, ["history", "-H=false", "--format", "{{.CreatedSince}}", "x"]);
    expect(short.stdout).toBe("2023-11-14T22:13:20Z\n");
  });

  it("images --filter before/since/label", async () => {
    const root = await tempDir();
    await importTree(root, "old", { SOURCE_DATE_EPOCH: "1000000000" });
    await importTree(root, "mid", { SOURCE_DATE_EPOCH: "1100000000" });
    await importTree(root, "new", { SOURCE_DATE_EPOCH: "1200000000" });
    const f = async (...args: string[]) =>
      (await tsb(root, ["images", "--format", "{{.Repository}}", ...args])).stdout;
    expect(await f()).toBe("new\nmid\nold\n");
    expect(await f("--filter", "before=mid")).toBe("old\n");
    expect(await f("--filter", "since=mid")).toBe("new\n");
    expect(await f("--filter", "label=maintainer")).toBe("");
  });
});

describe("image import --change", () => {
  it("applies config instructions like docker import -c", async () => {
    const root = await tempDir();
    const dir = await makeTree();
    const r = await tsb(root, [
      "import",
      "-c",
      'CMD ["/run.sh"]',
      "--change",
      "ENV A=1 B=$A-2",
      "-c",
      "ENV C=$A-3",
      "-c",
      "EXPOSE 80 53/udp 8000-8001",
      "-c",
      "WORKDIR /srv",
      "-c",
      "WORKDIR app",
      "-c",
      'LABEL org.example="x y"',
      "-c",
      "USER 1000:1000",
      "-c",
      "VOLUME /data",
      "-c",
      "STOPSIGNAL SIGINT",
      dir,
      "changed",
    ]);
    expect(r.stderr).toBe("");
    const img = await readImage(root, "changed");
    expect(img.config.config).toEqual({
      Cmd: ["/run.sh"],
      // One ENV line expands against the env before it (docker's rule), the next one sees A.
      Env: ["A=1", "B=-2", "C=1-3"],
      ExposedPorts: { "80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {} },
      WorkingDir: "/srv/app",
      Labels: { "org.example": "x y" },
      User: "1000:1000",
      Volumes: { "/data": {} },
      StopSignal: "SIGINT",
    });
  });

  it("shell-form ENTRYPOINT wraps in /bin/sh -c and resets CMD", async () => {
    const root = await tempDir();
    await tsb(root, ["import", "-c", "ENTRYPOINT exec app --flag", await makeTree(), "ep"]);
    expect((await readImage(root, "ep")).config.config).toEqual({
      Entrypoint: ["/bin/sh", "-c", "exec app --flag"],
      Cmd: null,
    });
  });

  it.each([
    ["RUN echo hi", /RUN is not a valid change command/],
    ["FROBNICATE x", /invalid --change/],
  ])("rejects %j", async (change, message) => {
    const root = await tempDir();
    const r = await tsb(root, ["import", "-c", change, await makeTree(), "bad"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect((await tsb(root, ["images", "-q"])).stdout).toBe("");
  });
});

describe("image import from a URL", () => {
  it("downloads a tarball over HTTP (127.0.0.1) and names the URL in history; HTTP errors fail", async () => {
    const { createServer } = await import("node:http");
    const dir = await makeTree();
    const tar = execFileSync("tar", ["-C", dir, "-cf", "-", "."]);
    const server = createServer((req, res) => {
      if (req.url === "/rootfs.tar.gz") {
        res.writeHead(200, { "content-type": "application/gzip" });
        res.end(gzipSync(tar));
      } else {
        res.writeHead(404);
        res.end("no");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const root = await tempDir();
      const url = `http://127.0.0.1:${port}/rootfs.tar.gz`;
      const r = await tsb(root, ["import", url, "fromurl"]);
      expect(r).toMatchObject({ code: 0, stderr: "" });
      const img = await readImage(root, "fromurl");
      expect(img.config.history?.[0]?.comment).toBe(`Imported from ${url}`);
      expect(img.config.rootfs.diff_ids[0]).toBe(digestOf(tar));
      const missing = await tsb(root, ["import", `http://127.0.0.1:${port}/nope.tar`, "x"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("HTTP 404");
    } finally {
      server.close();
    }
  });
});

describe("image prune --filter", () => {
  it("until= keeps recent images; label= / label!= pick by label", async () => {
    const root = await tempDir();
    const old = await importTree(root, undefined, { SOURCE_DATE_EPOCH: "1500000000" });
    const recent = await importTree(root);
    const r = await tsb(root, ["image", "prune", "-f", "--filter", "until=24h"]);
    expect(r.stdout).toMatch(new RegExp(`^Deleted Images:\\ndeleted: ${old}\\n\\nTotal reclaimed space: `));
    expect((await tsb(root, ["images", "-q", "--no-trunc"])).stdout).toBe(`${recent}\n`);

    await tsb(root, ["import", "-c", "LABEL keep=yes", await makeTree(), "keeper"]);
    await tsb(root, ["import", "-c", "LABEL keep=no", await makeTree(), "goner"]);
    const a = await tsb(root, ["image", "prune", "-a", "-f", "--filter", "label=keep=no"]);
    expect(a.stdout).toContain("untagged: goner:latest\n");
    const left = await tsb(root, ["images", "--format", "{{.Repository}}"]);
    expect(left.stdout.split("\n").sort().join(",")).toBe(",<none>,keeper");
    const b = await tsb(root, ["image", "prune", "-a", "-f", "--filter", "label!=keep"]);
    expect(b.code).toBe(0);
    expect((await tsb(root, ["images", "--format", "{{.Repository}}"])).stdout).toBe("keeper\n");
  });

  it("rejects unknown prune filters as usage errors", async () => {
    const root = await tempDir();
    expect((await tsb(root, ["image", "prune", "-f", "--filter", "dangling=false"])).code).toBe(2);
    expect((await tsb(root, ["image", "prune", "-f", "--filter", "until=soon"])).code).toBe(2);
  });
});
