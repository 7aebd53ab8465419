import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf } from "@tsbuild/oci";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "../packages/cli/src/testing.js";
import { isRoot, makeEveryKindTree, snapshotTree } from "../packages/oci/src/layer/__fixtures__/tree.js";

/**
 * The end-to-end proof: a directory with every entry kind is
 * imported into the store, saved as a docker-archive (that is also an OCI
 * layout), read by independent tools (skopeo, umoci), and unpacked to the
 * same tree; imports are reproducible under SOURCE_DATE_EPOCH; load of what
 * save wrote gives the same ids.
 */

const EPOCH = "1700000000";

/** tsbuild runs the CLI in process and fails the test on a non-zero exit. */
async function tsbuild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const r = await runCli(args, { env: { ...process.env, ...env } });
  if (r.code !== 0) throw new Error(`tsbuild ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("image round trip: import → save → skopeo/umoci → same tree", () => {
  let work: string;
  let tree: string;
  let root: string;
  let id: string;
  let archive: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "tsbuild-roundtrip-"));
    tree = join(work, "tree");
    root = join(work, "store");
    await mkdir(tree);
    await makeEveryKindTree(tree);
    id = (
      await tsbuild(["--root", root, "image", "import", tree, "roundtrip:1"], { SOURCE_DATE_EPOCH: EPOCH })
    ).stdout.trim();
    archive = join(work, "image.tar");
    await tsbuild(["--root", root, "image", "save", "-o", archive, "roundtrip:1"]);
  });

  it("the tree has what the test claims (guards the guard)", async () => {
    const s = await snapshotTree(tree);
    const types = new Set(Object.values(s).map((n) => n.type));
    expect([...types].sort()).toEqual(
      isRoot ? ["char", "dir", "fifo", "file", "symlink"] : ["dir", "fifo", "file", "symlink"],
    );
    expect(s["bin/suid"]?.mode).toBe("4755");
    expect(s.tmp?.mode).toBe("1777");
    expect(s["bin/tool-hardlink"]?.inodeGroup).toBe("bin/tool");
    expect(Object.keys(s).some((p) => Buffer.byteLength(p) > 100)).toBe(true);
    if (isRoot) expect(s.owned).toMatchObject({ uid: 1234, gid: 1234 });
  });

  it("skopeo reads the save output as docker-archive and as oci-archive", () => {
    for (const transport of ["docker-archive", "oci-archive"]) {
      const info = JSON.parse(tool("skopeo", ["inspect", `${transport}:${archive}`]));
      expect(info.Layers, transport).toHaveLength(1);
      expect(info.Os, transport).toBe("linux");
      expect(info.Created, transport).toBe("2023-11-14T22:13:20Z");
      const config = JSON.parse(tool("skopeo", ["inspect", "--config", `${transport}:${archive}`]));
      expect(config.rootfs.diff_ids).toHaveLength(1);
      expect(digestOf(tool("skopeo", ["inspect", "--config", "--raw", `${transport}:${archive}`]))).toBe(id);
    }
  });

  it("skopeo copy to an OCI layout, then umoci unpack, gives the same tree", async () => {
    if (!isRoot)
      throw new Error(
        "needs root (umoci unpack keeps owners and devices only as root): run as root, as CI does",
      );
    const layout = join(work, "layout");
    const bundle = join(work, "bundle");
    tool("skopeo", ["copy", `oci-archive:${archive}`, `oci:${layout}:tag`]);
    tool("umoci", ["unpack", "--image", `${layout}:tag`, bundle]);
    const want = await snapshotTree(tree);
    const got = await snapshotTree(join(bundle, "rootfs"));
    expect(got).toEqual(want);
  });

  it("two imports of the same tree give the same id after touching everything (SOURCE_DATE_EPOCH)", async () => {
    execFileSync("find", [tree, "-exec", "touch", "-h", "{}", "+"]);
    const again = (
      await tsbuild(["--root", root, "image", "import", tree, "roundtrip:2"], { SOURCE_DATE_EPOCH: EPOCH })
    ).stdout.trim();
    expect(again).toBe(id);
    const other = join(work, "store2");
    const fresh = (
      await tsbuild(["--root", other, "import", tree], { SOURCE_DATE_EPOCH: EPOCH })
    ).stdout.trim();
    expect(fresh).toBe(id);
  });

  it("image load of what save wrote gives the same ids and names", async () => {
    const other = join(work, "store-load");
    const loaded = await tsbuild(["--root", other, "image", "load", "-i", archive]);
    expect(loaded.stdout).toBe("Loaded image: roundtrip:1\n");
    const before = await tsbuild([
      "--root",
      root,
      "images",
      "--no-trunc",
      "--format",
      "{{.ID}} {{.Repository}}:{{.Tag}}",
      "roundtrip:1",
    ]);
    const after = await tsbuild([
      "--root",
      other,
      "images",
      "--no-trunc",
      "--format",
      "{{.ID}} {{.Repository}}:{{.Tag}}",
    ]);
    expect(after.stdout).toBe(before.stdout);
    expect(after.stdout).toBe(`${id} roundtrip:1\n`);
  });
});
