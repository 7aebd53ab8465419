/**
 * Parity with BuildKit's .dockerignore integration tests (frontend/dockerfile/dockerfile_dockerignore_test.go):
 * the expected context after the ignore file is applied, restated as data.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { selectBuildContext } from "./context.js";
import { IgnorePatternError } from "./matcher.js";

const S = "dockerfile_dockerignore_test.go#";
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "tsbuild-ign-"));
  dirs.push(root);
  for (const [p, data] of Object.entries(files)) writeFileSync(join(root, p), data);
  return root;
}
const paths = async (root: string, dockerfile?: string) =>
  (await selectBuildContext({ contextDir: root, ...(dockerfile ? { dockerfile } : {}) })).entries.map(
    (e) => e.path,
  );

describe("BuildKit .dockerignore parity", () => {
  it(`${S}testDockerignore: COPY . . sees foo and the re-included bay only`, async () => {
    const root = tree({
      Dockerfile: "FROM scratch\nCOPY . .\n",
      ".dockerignore": "\nba*\nDockerfile\n!bay\n.dockerignore\n",
      foo: "foo-contents",
      bar: "bar-contents",
      baz: "baz-contents",
      bay: "bay-contents",
    });
    expect(await paths(root)).toEqual(["bay", "foo"]);
  });

  it(`${S}testDockerignoreInvalid: a lone "!" fails the build (promptly)`, async () => {
    const root = tree({ Dockerfile: "FROM scratch\nCOPY . .\n", ".dockerignore": "!\n" });
    await expect(selectBuildContext({ contextDir: root })).rejects.toBeInstanceOf(IgnorePatternError);
  });

  it(`${S}testDockerignoreOverride: each Dockerfile uses its own <name>.dockerignore`, async () => {
    const root = tree({
      Dockerfile: "FROM busybox\nCOPY . .\n",
      "Dockerfile.dockerignore": "\nbar\n",
      Dockerfile2: "FROM busybox\nCOPY . .\n",
      "Dockerfile2.dockerignore": "\nfoo\n",
      foo: "contents0",
      bar: "contents0",
    });
    const one = await paths(root);
    expect(one).toContain("foo");
    expect(one).not.toContain("bar");
    const two = await paths(root, "Dockerfile2");
    expect(two).toContain("bar");
    expect(two).not.toContain("foo");
  });
});
