/**
 * examples/pipeline.ts, run for real against the CNCF registry: it builds, tags and pushes, and the
 * registry then serves the manifest it pushed (read back with skopeo, which shares no code with tsbuild).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipeline } from "../examples/pipeline.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

let registry: TestRegistry;
let dir: string;

beforeAll(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), "tsbuild-example-pipeline-"));
});

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("examples/pipeline.ts", () => {
  it("builds, tags and pushes; the registry serves the manifest it printed", async () => {
    const image = `${registry.host}/team/hello:1`;
    const lines: string[] = [];
    const result = await pipeline({ image, root: join(dir, "store"), log: (l) => lines.push(l) });

    expect(
      lines.some((l) => /^#\d+ \[.*\] COPY hello\.txt \/srv\/hello\.txt$/.test(l)),
      lines.join("\n"),
    ).toBe(true);
    expect(lines.some((l) => /^#\d+ \d+\/\d+ bytes$/.test(l))).toBe(true);
    expect(lines.some((l) => /^#\d+ pushing 127\.0\.0\.1:\d+\/team\/hello:1$/.test(l))).toBe(true);
    expect(lines).toContain(`built ${result.id}`);
    expect(lines.at(-1)).toBe(`pushed ${image}@${result.digest}`);

    const skopeo = (...args: string[]) =>
      execFileSync("skopeo", ["inspect", "--tls-verify=false", ...args, `docker://${image}`], {
        encoding: "utf8",
        env: { ...process.env, REGISTRY_AUTH_FILE: join(dir, "auth.json") },
      });
    const raw = skopeo("--raw");
    expect(digestOf(raw)).toBe(result.digest);
    const manifest = JSON.parse(raw) as { config: { digest: string }; layers: unknown[] };
    expect(manifest.config.digest).toBe(result.id);
    expect(manifest.layers).toHaveLength(1);
    const config = JSON.parse(skopeo("--config")) as {
      config: { Env: string[]; Cmd: string[]; Labels: Record<string, string> };
    };
    expect(config.config.Env).toContain("GREETING=hello");
    expect(config.config.Cmd).toEqual(["/srv/hello.txt"]);
    expect(config.config.Labels["org.opencontainers.image.source"]).toBe("examples/pipeline.ts");
  });
});
