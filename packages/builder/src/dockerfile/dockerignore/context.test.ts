import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { selectBuildContext, walkContext } from "./context.js";
import { IgnorePatternError } from "./matcher.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-ctx-"));
  dirs.push(root);
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  return root;
}

async function walk(root: string, excludes: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkContext(root, { excludes }))
    out.push(e.kind === "directory" ? `${e.path}/` : e.path);
  return out;
}

const FILES = {
  "a.go": "",
  "b.txt": "",
  "dir/keep.go": "",
  "dir/drop.txt": "",
  "dir/sub/deep.go": "",
  "node_modules/x/index.js": "",
};

describe("walkContext", () => {
  it.each([
    [
      [],
      [
        "a.go",
        "b.txt",
        "dir/",
        "dir/drop.txt",
        "dir/keep.go",
        "dir/sub/",
        "dir/sub/deep.go",
        "node_modules/",
        "node_modules/x/",
        "node_modules/x/index.js",
      ],
    ],
    [
      ["node_modules", "*.txt"],
      ["a.go", "dir/", "dir/drop.txt", "dir/keep.go", "dir/sub/", "dir/sub/deep.go"],
    ],
    [
      ["**/*.txt", "node_modules/"],
      ["a.go", "dir/", "dir/keep.go", "dir/sub/", "dir/sub/deep.go"],
    ],
    // Plain exception: the excluded dir is walked and yielded only because something inside is re-included.
    [
      ["dir", "node_modules", "!dir/keep.go"],
      ["a.go", "b.txt", "dir/", "dir/keep.go"],
    ],
    // Wildcard exception: every excluded dir must be searched.
    [
      ["*", "!**/*.go"],
      ["a.go", "dir/", "dir/keep.go", "dir/sub/", "dir/sub/deep.go"],
    ],
    // A later pattern re-excludes.
    [
      ["*", "!dir", "dir/sub"],
      ["dir/", "dir/drop.txt", "dir/keep.go"],
    ],
    [
      ["/dir/sub/../drop.txt", "./b.txt", "node_modules/**"],
      ["a.go", "dir/", "dir/drop.txt", "dir/keep.go", "dir/sub/", "dir/sub/deep.go", "node_modules/"],
    ],
  ])("%j", async (excludes, expected) => {
    expect(await walk(tree(FILES), excludes)).toEqual(expected);
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(walk2(tree(FILES), controller.signal)).rejects.toThrow();
  });
});

async function walk2(root: string, signal: AbortSignal): Promise<void> {
  for await (const _ of walkContext(root, { signal })) {
    // drain
  }
}

describe("selectBuildContext", () => {
  it("excludes the Dockerfile from COPY but still reports where it is", async () => {
    const root = tree({
      Dockerfile: "FROM scratch\n",
      ".dockerignore": "Dockerfile\n.dockerignore\n",
      x: "",
    });
    const sel = await selectBuildContext({ contextDir: root });
    expect(sel.entries.map((e) => e.path)).toEqual(["x"]);
    expect(sel.dockerfilePath).toBe(join(root, "Dockerfile"));
    expect(sel.ignoreFile).toEqual({
      path: join(root, ".dockerignore"),
      patterns: ["Dockerfile", ".dockerignore"],
    });
  });

  it("prefers <Dockerfile>.dockerignore beside a Dockerfile in a subdirectory", async () => {
    const root = tree({
      "build/app.Dockerfile": "FROM scratch\n",
      "build/app.Dockerfile.dockerignore": "secret\n",
      ".dockerignore": "public\n",
      secret: "",
      public: "",
    });
    const sel = await selectBuildContext({ contextDir: root, dockerfile: "build/app.Dockerfile" });
    expect(sel.ignoreFile.path).toBe(join(root, "build/app.Dockerfile.dockerignore"));
    expect(sel.entries.map((e) => e.path)).toContain("public");
    expect(sel.entries.map((e) => e.path)).not.toContain("secret");
  });

  it("names the ignore file in pattern errors", async () => {
    const root = tree({ Dockerfile: "", ".dockerignore": "a[\n" });
    const err = await selectBuildContext({ contextDir: root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IgnorePatternError);
    expect(String((err as Error).message)).toBe(`${join(root, ".dockerignore")}: syntax error in pattern`);
  });
});
