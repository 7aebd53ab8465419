import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LayerEntry, OciLayout, parseReference, readArchive, writeLayerTo } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_EPOCH, type BaseImage, busyboxLayer, goldenBases, writeBase } from "./bases.js";
import {
  compareDescriptions,
  describeArchive,
  describeLayout,
  diffDescriptions,
  type ImageDescription,
} from "./describe.js";
import { checkExport } from "./export-check.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "golden-describe-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lower: LayerEntry[] = [
  { path: "etc", type: "dir" },
  { path: "etc/passwd", type: "file", content: "root:x:0:0::/root:/bin/sh\n" },
  { path: "tmp", type: "dir", mode: 0o1777 },
  { path: "opt", type: "dir" },
  { path: "opt/gone", type: "dir" },
  { path: "opt/gone/deep", type: "dir" },
  { path: "opt/gone/deep/f", type: "file", content: "f" },
  { path: "opt/opq", type: "dir", mode: 0o750, uid: 5, gid: 6 },
  { path: "opt/opq/old", type: "file", content: "old" },
  { path: "opt/dir-to-file", type: "dir" },
  { path: "opt/dir-to-file/child", type: "file", content: "c" },
];

const upper: LayerEntry[] = [
  { path: "opt", type: "dir" },
  { path: "opt/.wh.gone", type: "file", mode: 0o600 },
  { path: "opt/opq", type: "dir", mode: 0o755 },
  { path: "opt/opq/.wh..wh..opq", type: "file" },
  { path: "opt/opq/new", type: "file", content: "new" },
  { path: "opt/dir-to-file", type: "file", content: "now a file", mode: 0o600, uid: 1000, gid: 50 },
  { path: "usr", type: "dir" },
  { path: "usr/bin", type: "dir" },
  { path: "usr/bin/tool", type: "file", content: "#!/bin/sh\n", mode: 0o4755 },
  { path: "usr/bin/tool-link", type: "hardlink", linkname: "usr/bin/tool", mode: 0o644 },
  { path: "usr/bin/sym", type: "symlink", linkname: "../lib/x" },
  { path: "dev", type: "dir" },
  { path: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 },
];

function image(name: string, layers: LayerEntry[][], config: BaseImage["config"] = {}): BaseImage {
  return { name, layers, config, history: layers.map((_, i) => `layer ${i}`) };
}

async function describeSynthetic(
  layers: LayerEntry[][],
  baseLayers: number,
  config: BaseImage["config"] = {},
) {
  const file = await writeBase(
    join(dir, `img-${Math.random().toString(36).slice(2)}`),
    image("t/x:1", layers, config),
  );
  return describeArchive(file, { baseLayers });
}

describe("describeArchive", () => {
  it("keeps config fields but no timestamps, and drops fields that mean 'unset'", async () => {
    const d = await describeSynthetic([lower], 0, {
      Env: ["A=1"],
      Cmd: ["sh"],
      Entrypoint: null,
      User: "",
      Labels: {},
      WorkingDir: "/app",
      StopSignal: "SIGINT",
      OnBuild: ["RUN true"],
    });
    expect(d.config).toEqual({
      architecture: "amd64",
      os: "linux",
      config: {
        Env: ["A=1"],
        Cmd: ["sh"],
        WorkingDir: "/app",
        StopSignal: "SIGINT",
        OnBuild: ["RUN true"],
      },
      history: [{ created_by: "layer 0" }],
    });
    expect(JSON.stringify(d)).not.toContain('created"');
    expect(JSON.stringify(d)).not.toContain(String(BASE_EPOCH));
  });

  it("lists only the build's layers, sorted, with octal modes, owners, digests, links and whiteouts", async () => {
    const d = await describeSynthetic([lower, upper], 1);
    expect(d.layers).toHaveLength(1);
    const byPath = Object.fromEntries(d.layers[0]!.map((e) => [e.path, e]));
    expect(d.layers[0]!.map((e) => e.path)).toEqual([
      "/dev",
      "/dev/null",
      "/opt",
      "/opt/.wh.gone",
      "/opt/dir-to-file",
      "/opt/opq",
      "/opt/opq/.wh..wh..opq",
      "/opt/opq/new",
      "/usr",
      "/usr/bin",
      "/usr/bin/sym",
      "/usr/bin/tool",
      "/usr/bin/tool-link",
    ]);
    expect(byPath["/opt/.wh.gone"]).toEqual({ path: "/opt/.wh.gone", type: "whiteout" });
    expect(byPath["/opt/opq/.wh..wh..opq"]).toEqual({ path: "/opt/opq/.wh..wh..opq", type: "opaque" });
    expect(byPath["/opt/dir-to-file"]).toEqual({
      path: "/opt/dir-to-file",
      type: "file",
      mode: "0600",
      uid: 1000,
      gid: 50,
      size: 10,
      sha256: createHash("sha256").update("now a file").digest("hex"),
    });
    expect(byPath["/usr/bin/tool"]).toMatchObject({ mode: "4755", size: 10 });
    expect(byPath["/usr/bin/tool-link"]).toEqual({
      path: "/usr/bin/tool-link",
      type: "hardlink",
      mode: "0644",
      uid: 0,
      gid: 0,
      linkname: "/usr/bin/tool",
    });
    expect(byPath["/usr/bin/sym"]).toMatchObject({ type: "symlink", linkname: "../lib/x", mode: "0777" });
    expect(byPath["/dev/null"]).toMatchObject({ type: "char", devmajor: 1, devminor: 3, mode: "0666" });
  });

  it("merges the tree as an overlay would: whiteouts, opaque dirs, dir replaced by file, hardlinks share the inode", async () => {
    const d = await describeSynthetic([lower, upper], 1);
    const paths = d.tree.map((e) => e.path);
    expect(paths).not.toContain("/opt/gone");
    expect(paths).not.toContain("/opt/gone/deep/f");
    expect(paths).not.toContain("/opt/opq/old");
    expect(paths).not.toContain("/opt/dir-to-file/child");
    expect(paths).not.toContain("/opt/.wh.gone");
    expect(paths).toContain("/opt/opq/new");
    const byPath = Object.fromEntries(d.tree.map((e) => [e.path, e]));
    expect(byPath["/tmp"]).toMatchObject({ type: "dir", mode: "1777" });
    expect(byPath["/opt/opq"]).toMatchObject({ mode: "0755", uid: 0 });
    const tool = byPath["/usr/bin/tool"]!;
    expect(byPath["/usr/bin/tool-link"]).toEqual({
      path: "/usr/bin/tool-link",
      type: "hardlink",
      linkname: "/usr/bin/tool",
      mode: "4755",
      uid: 0,
      gid: 0,
      size: tool.size,
      sha256: tool.sha256,
    });
    expect(d.tree.find((e) => e.type === "whiteout" || e.type === "opaque")).toBeUndefined();
  });

  it("refuses a base layer count beyond the image", async () => {
    await expect(describeSynthetic([lower], 2)).rejects.toThrow(/baseLayers is 2 but the image has 1 layers/);
  });

  it("reads an OCI layout by ref name, the same as the archive", async () => {
    const file = await writeBase(join(dir, "layout-src"), image("t/layout:1", [lower, upper]));
    const archive = await readArchive(file);
    const layoutDir = join(dir, "layout");
    const layout = await OciLayout.open(layoutDir, { create: true });
    const img = archive.images[0]!;
    for (const l of img.manifest.layers) await layout.writeBlob(archive.openBlob(l.digest));
    await layout.writeBlob(img.config);
    const m = await layout.writeBlob(img.manifestBytes);
    await layout.writeIndex({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: img.manifest.mediaType!,
          digest: m.digest,
          size: m.size,
          annotations: { "org.opencontainers.image.ref.name": "v1" },
        },
      ],
    });
    await archive.close();
    const fromLayout = await describeLayout(layoutDir, { baseLayers: 1, ref: "v1" });
    expect(fromLayout).toEqual(await describeArchive(file, { baseLayers: 1 }));
    await expect(describeLayout(layoutDir, { baseLayers: 1, ref: "v2" })).rejects.toThrow(/found 0/);
  });
});

describe("compareDescriptions", () => {
  let base: ImageDescription;
  beforeAll(async () => {
    base = await describeSynthetic([lower, upper], 1, { Env: ["A=1"], Cmd: ["sh"] });
  });
  const clone = (): ImageDescription => JSON.parse(JSON.stringify(base));

  it("finds nothing between equal descriptions", () => {
    expect(compareDescriptions(base, clone())).toEqual([]);
  });

  it("names path, field, expected and actual for a changed mode, a missing and an extra entry", () => {
    const actual = clone();
    actual.layers[0]!.find((e) => e.path === "/usr/bin/tool")!.mode = "0755";
    actual.tree = actual.tree.filter((e) => e.path !== "/opt/opq/new");
    actual.tree.push({ path: "/extra", type: "dir", mode: "0755", uid: 0, gid: 0 });
    const texts = compareDescriptions(base, actual).map((d) => d.text);
    expect(texts).toEqual([
      'layers[0] /usr/bin/tool: mode expected "4755", actual "0755"',
      "tree /opt/opq/new: missing (expected file 0644 0:0)",
      "tree /extra: unexpected dir 0755 0:0",
    ]);
  });

  it("compares config fields and history one by one", () => {
    const actual = clone();
    actual.config.config.Cmd = ["/bin/sh", "-c", "sh"];
    actual.config.history[1] = { created_by: "other" };
    actual.config.history.push({ created_by: "extra", empty_layer: true });
    const diffs = diffDescriptions(base, actual);
    expect(diffs.map((d) => d.field)).toEqual([
      "config.Cmd",
      "history.length",
      "history[1].created_by",
      "history[2]",
    ]);
    expect(diffs[0]!.text).toBe('config.Cmd: expected ["sh"], actual ["/bin/sh","-c","sh"]');
  });

  it("reports a different layer count once, with the paths of each layer", () => {
    const actual = clone();
    actual.layers.push([{ path: "/app", type: "dir", mode: "0755", uid: 0, gid: 0 }]);
    const diffs = diffDescriptions(base, actual).filter((d) => d.where === "layers");
    expect(diffs).toHaveLength(1);
    expect(diffs[0]!.text).toMatch(/^layers: expected 1 layers .*actual 2 .*"\/app"/);
  });

  it("leaves out differences that a known difference explains, by path, path prefix, field or layer", () => {
    const actual = clone();
    actual.layers[0]!.find((e) => e.path === "/usr/bin/tool")!.uid = 7;
    actual.tree.find((e) => e.path === "/usr/bin/tool")!.uid = 7;
    actual.tree.find((e) => e.path === "/opt/opq/new")!.mode = "0600";
    actual.config.config.Env = ["A=2"];
    expect(compareDescriptions(base, actual)).toHaveLength(4);
    const left = compareDescriptions(base, actual, [
      { path: "/usr/bin/tool", field: "uid", layer: 0, reason: "r" },
      { path: "/opt/**", reason: "r" },
      { field: "config.Env", reason: "r" },
    ]);
    expect(left.map((d) => d.text)).toEqual(["tree /usr/bin/tool: uid expected 0, actual 7"]);
    expect(compareDescriptions(base, actual, [{ reason: "covers nothing" }])).toHaveLength(4);
  });
});

describe("checkExport", () => {
  it("accepts docker's flattened view of the same tree (hardlink order and runtime files aside) and reports a changed mode", async () => {
    const d = await describeSynthetic([lower, upper], 1);
    const flat: LayerEntry[] = d.tree.map((e) => ({
      path: e.path.slice(1),
      type:
        e.type === "hardlink" && e.path === "/usr/bin/tool-link" ? "file" : (e.type as LayerEntry["type"]),
      mode: Number.parseInt(e.mode!, 8),
      uid: e.uid,
      gid: e.gid,
      ...(e.type === "symlink" ? { linkname: e.linkname } : {}),
      ...(e.type === "char" ? { devmajor: e.devmajor, devminor: e.devminor } : {}),
      ...(e.path === "/usr/bin/tool-link" ? { content: "#!/bin/sh\n" } : {}),
    }));
    for (const e of flat) {
      const src = [...lower, ...upper].find((l) => l.path === e.path && l.type === "file");
      if (src && e.type === "file" && e.path !== "usr/bin/tool-link") e.content = src.content;
    }
    flat.push(
      { path: ".dockerenv", type: "file" },
      { path: "etc/hosts", type: "file", content: "127.0.0.1" },
    );
    const tar = join(dir, "export.tar");
    await writeLayerTo(tar, { entries: flat }, { compression: "none" });
    expect((await checkExport(d, tar)).map((x) => x.text)).toEqual([]);

    const changed = flat.map((e) => (e.path === "tmp" ? { ...e, mode: 0o755 } : e));
    await writeLayerTo(tar, { entries: changed }, { compression: "none" });
    expect((await checkExport(d, tar)).map((x) => x.text)).toEqual([
      'tree /tmp: mode expected "1777", actual "0755"',
    ]);
  });
});

describe("golden bases", () => {
  it("are byte-identical on every write", async () => {
    const a = await writeBase(join(dir, "a"), goldenBases(Buffer.from("not busybox"))[2]!);
    const b = await writeBase(join(dir, "b"), goldenBases(Buffer.from("not busybox"))[2]!);
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
  });

  it("hold what the cases rely on: busybox applets, passwd/group, /tmp 1777, /home/app 1000, /var/run symlink", async () => {
    const bases = goldenBases(Buffer.from("not busybox"));
    const busybox = bases.find((b) => b.name === "golden/busybox:1")!;
    const file = await writeBase(join(dir, "bb"), busybox);
    const archive = await readArchive(file);
    expect(archive.images[0]!.names).toEqual([parseReference("golden/busybox:1").toString()]);
    await archive.close();
    const d = await describeArchive(file, { baseLayers: 1 });
    const byPath = Object.fromEntries(d.tree.map((e) => [e.path, e]));
    expect(byPath["/bin/sh"]).toMatchObject({ type: "symlink", linkname: "busybox" });
    expect(byPath["/tmp"]).toMatchObject({ mode: "1777" });
    expect(byPath["/home/app"]).toMatchObject({ uid: 1000, gid: 1000 });
    expect(byPath["/var/run"]).toMatchObject({ type: "symlink", linkname: "/run" });
    expect(busyboxLayer(Buffer.from("x")).filter((e) => e.path.startsWith("usr/local/bin/")).length).toBe(3);
  });

  it("whiteouts base: its third layer deletes files and a directory of the second and makes one opaque", async () => {
    const wo = goldenBases(Buffer.from("not busybox")).find((b) => b.name === "golden/whiteouts:1")!;
    const d = await describeArchive(await writeBase(join(dir, "wo"), wo), { baseLayers: 3 });
    const paths = d.tree.map((e) => e.path).filter((p) => p.startsWith("/opt") || p.includes("old-tool"));
    expect(paths).toEqual([
      "/opt",
      "/opt/keep",
      "/opt/tree",
      "/opt/tree/b",
      "/opt/tree/sub",
      "/opt/tree/sub/e",
    ]);
  });
});
