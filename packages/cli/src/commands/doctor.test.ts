import { describe, expect, it } from "vitest";
import { runCli } from "../testing.js";

/** `tsbuild doctor` as root (CI's case); the rootless runs are in test/run-unprivileged.test.ts. */
describe("tsbuild doctor", () => {
  it("says RUN works as root, with each check, and exits 0", async () => {
    if (process.getuid?.() !== 0) throw new Error("doctor's root case needs root (as CI runs it)");
    const r = await runCli(["doctor"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("RUN steps for root: as root");
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}ok {6}runc {17}runc version \S+ \(\S+runc\)$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}info {4}user namespaces {6}not needed: running as root$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}ok {6}kernel overlay {7}mounts as root$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}ok {6}RUN {18}a test step ran \(overlay, root\)$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}ok {6}run -p {15}slirp4netns version \S+ \(\S+slirp4netns\)$/),
    );
    expect(lines.at(-2)).toBe("RUN works here: overlay snapshots, root.");
  });

  it("names a missing runtime with the command that installs it, and exits 1", async () => {
    const r = await runCli(["doctor", "--runtime", "/nonexistent/runc"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("  MISSING runc                 /nonexistent/runc --version failed:");
    expect(r.stdout).toContain("fix: sudo apt-get install --reinstall runc\n");
    expect(r.stdout).toMatch(/RUN cannot work here: fix what is MISSING above\.\n$/);
  });
});
