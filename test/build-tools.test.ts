import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../packages/cli/src/testing.js";

/**
 * What tsbuild builds, read by tools that share no code with it: skopeo reads the config, umoci unpacks
 * the layers, and runc runs the image's CMD.
 */
describe("independent tools on a built image", () => {
  let dir: string;
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("this test runs runc as root: run it as root (CI does)");
    dir = await mkdtemp(join(tmpdir(), "tsbuild-tools-"));
    const ctx = join(dir, "ctx");
    execFileSync("mkdir", ["-p", ctx]);
    await writeFile(
      join(ctx, "Dockerfile"),
      [
        "FROM scratch",
        "COPY busybox /bin/busybox",
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        "WORKDIR /srv",
        "COPY msg.txt .",
        'RUN echo "from RUN as $(id -u)" >> msg.txt',
        'CMD ["cat", "/srv/msg.txt"]',
      ].join("\n"),
    );
    writeFileSync(join(ctx, "busybox"), readFileSync("/bin/busybox"), { mode: 0o755 });
    await writeFile(join(ctx, "msg.txt"), "hello from tsbuild\n");
    const r = await runCli([
      "--root",
      join(dir, "store"),
      "build",
      "-q",
      "-t",
      "tools:1",
      "-o",
      `type=oci,dest=${join(dir, "layout")}`,
      ctx,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("skopeo reads the config", () => {
    const cfg = JSON.parse(
      execFileSync("skopeo", ["inspect", "--config", `oci:${join(dir, "layout")}:1`], { encoding: "utf8" }),
    );
    expect(cfg.config.Cmd).toEqual(["cat", "/srv/msg.txt"]);
    expect(cfg.config.WorkingDir).toBe("/srv");
    expect(cfg.rootfs.diff_ids).toHaveLength(5);
  });

  it("umoci unpacks it and runc runs its CMD", () => {
    const bundle = join(dir, "bundle");
    execFileSync("umoci", ["unpack", "--image", `${join(dir, "layout")}:1`, bundle], { stdio: "pipe" });
    const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    spec.process.terminal = false;
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
    const out = execFileSync("runc", ["run", `tsbuild-tools-${process.pid}`], {
      cwd: bundle,
      encoding: "utf8",
    });
    expect(out).toBe("hello from tsbuild\nfrom RUN as 0\n");
  });
});
