import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { hostPlatform } from "@tsbuild/oci";
import { describe, expect, it } from "vitest";
import { runCli } from "../testing.js";
import { ansic } from "./version.js";

const BIN = join(import.meta.dirname, "..", "..", "..", "..", "bin", "tsbuild");

describe("tsbuild version", () => {
  it("prints docker's client section: version, Node.js, commit, build time, OS/Arch", async () => {
    const r = await runCli(["version"]);
    const p = hostPlatform();
    expect(r).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "Client:",
        " Version:           0.1.0",
        ` Node.js version:   ${process.version}`,
        " Git commit:        unknown",
        " Built:             unknown",
        ` OS/Arch:           ${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`,
        "",
      ].join("\n"),
    });
  });

  it("the bundle knows the commit it was built from and when that commit was made", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, "version"]);
    expect(stdout).toMatch(/^ Git commit: {8}[0-9a-f]{7,}$/m);
    expect(stdout).toMatch(
      /^ Built: {13}(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/m,
    );
  });

  it("--format json and --format TEMPLATE", async () => {
    const json = await runCli(["version", "--format", "json"]);
    expect(json.code).toBe(0);
    const info = JSON.parse(json.stdout);
    expect(info.Client).toMatchObject({
      Version: "0.1.0",
      NodeVersion: process.version,
      GitCommit: "unknown",
    });
    expect(await runCli(["version", "-f", "{{.Client.Version}} on {{.Client.NodeVersion}}"])).toEqual({
      code: 0,
      stdout: `0.1.0 on ${process.version}\n`,
      stderr: "",
    });
    const bad = await runCli(["version", "--format", "{{.Client.Version"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tsbuild: template parsing error: /);
  });

  it("takes no arguments", async () => {
    const r = await runCli(["version", "now"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tsbuild: "tsbuild version" got unexpected arguments: now\n/);
  });

  it("formats times as Go's time.ANSIC", () => {
    expect(ansic(new Date("2025-02-26T10:40:57Z"))).toBe("Wed Feb 26 10:40:57 2025");
    expect(ansic(new Date("2026-12-03T08:05:09+01:00"))).toBe("Thu Dec  3 07:05:09 2026");
  });
});
