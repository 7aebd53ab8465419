import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hostPlatform } from "@tsbuild/oci";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { tsb } from "./__fixtures__/image.js";

// A RUN-less Dockerfile builds for any platform without emulation.
describe("a multi-platform build in the image verbs", () => {
  let root: string;
  let index: string;
  const arch = hostPlatform().architecture === "arm64" ? "arm64" : "amd64";
  beforeAll(async () => {
    root = await tempDir();
    const ctx = await tempDir();
    await writeFile(join(ctx, "Dockerfile"), 'FROM scratch\nCOPY a /a\nCMD ["/a"]\n');
    await writeFile(join(ctx, "a"), "hello\n");
    const r = await tsb(root, ["build", "-q", "--platform", "linux/amd64,linux/arm64", "-t", "mp:1", ctx]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    index = r.stdout.trim();
  });

  it("image ls shows it as one row named by its index", async () => {
    const r = await tsb(root, ["image", "ls", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"]);
    expect(r.stdout).toBe(`mp 1 ${index.slice(7, 19)}\n`);
  });

  it("inspect and history show the host platform's image; the descriptor is the index", async () => {
    const r = await tsb(root, ["image", "inspect", "-f", "{{.Architecture}} {{.Descriptor.digest}}", "mp:1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${arch} ${index}\n`);
    const h = await tsb(root, ["image", "history", "--format", "{{.CreatedBy}}", "mp:1"]);
    expect(h.stdout).toBe('CMD ["/a"]\nCOPY a /a # buildkit\n');
  });

  it("rmi by the id image ls shows removes it", async () => {
    await tsb(root, ["tag", "mp:1", "mp:2"]);
    const r = await tsb(root, ["rmi", "-f", index.slice(7, 19)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Deleted: ${index}`);
    expect((await tsb(root, ["image", "ls", "-q"])).stdout).toBe("");
  });

  it("names each step with its stage's platform, and a cross-compiling stage's with ->ARCH", async () => {
    const ctx = await tempDir();
    await writeFile(
      join(ctx, "Dockerfile"),
      "FROM --platform=$BUILDPLATFORM scratch AS build\nCOPY a /a\nFROM scratch\nCOPY --from=build /a /b\n",
    );
    await writeFile(join(ctx, "a"), "hello\n");
    const r = await tsb(root, ["build", "--progress", "plain", "--platform", "linux/amd64,linux/arm64", ctx]);
    expect(r.code).toBe(0);
    const host = `linux/${arch}`;
    const other = arch === "amd64" ? "arm64" : "amd64";
    const names = [...r.stderr.matchAll(/^#\d+ (\[linux\/\S+ \S+ \d\/\d\] .*)$/gm)].map((m) => m[1]);
    // BuildKit's prefixCommand: the $BUILDPLATFORM stage runs on the host's platform for both targets.
    expect(new Set(names)).toEqual(
      new Set([
        `[${host} build 1/1] COPY a /a`,
        `[${host}->${other} build 1/1] COPY a /a`,
        "[linux/amd64 stage-1 1/1] COPY --from=build /a /b",
        "[linux/arm64 stage-1 1/1] COPY --from=build /a /b",
      ]),
    );
  });
});
