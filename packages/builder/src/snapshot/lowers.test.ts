import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stubPaths } from "../run/prepare.js";
import { LowerView } from "./lowers.js";

const work = mkdtempSync(join(tmpdir(), "tsbuild-lowers-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** layer makes one lower directory from [path, "dir" | "file" | "->target"] pairs. */
function layer(name: string, entries: [string, string][]): string {
  const root = join(work, name);
  mkdirSync(root);
  for (const [p, what] of entries) {
    const abs = join(root, p);
    if (what === "dir") mkdirSync(abs, { recursive: true });
    else if (what === "file") writeFileSync(abs, "x");
    else symlinkSync(what.slice(2), abs);
  }
  return root;
}

describe("LowerView.resolve", () => {
  const lower = layer("a", [
    ["etc", "dir"],
    ["run", "dir"],
    ["var", "dir"],
    ["etc/resolv.conf", "->../run/systemd/resolve/stub-resolv.conf"],
    ["etc/hosts", "->/run/hosts-real"],
    ["var/run", "->/run"],
    ["loop", "->loop"],
    ["up", "->../../../.."],
  ]);
  const upper = layer("b", [
    ["etc", "dir"],
    ["etc/mtab", "->../proc/self/mounts"],
  ]);
  const view = new LowerView([lower, upper]);

  it.each([
    ["etc/resolv.conf", "run/systemd/resolve/stub-resolv.conf"],
    ["/etc/hosts", "run/hosts-real"],
    ["var/run/lock/x", "run/lock/x"],
    ["etc/mtab", "proc/self/mounts"],
    ["up/etc/passwd", "etc/passwd"],
    ["etc/../var/./run", "run"],
    ["plain/path", "plain/path"],
  ])("%s is %s inside the root", (path, want) => {
    expect(view.resolve(path)).toBe(want);
  });

  it("reads a file through the image's links, never the host's", () => {
    const etc = layer("c", [
      ["etc", "dir"],
      ["etc/static", "dir"],
      ["etc/static/passwd", "file"],
      ["etc/passwd", "->static/passwd"],
      ["etc/group", "->/etc/hostname"],
    ]);
    const v = new LowerView([etc]);
    expect(v.readText("etc/passwd")).toBe("x");
    expect(v.readText("etc/group")).toBeUndefined();
  });

  it("stops following a link that loops after 255 links", () => {
    expect(view.resolve("loop/x")).toBe("loop/x");
  });

  it("puts the stubs of linked mount targets where they land, with the directories above them", () => {
    expect([...stubPaths(view, ["/etc/resolv.conf", "/etc/hosts", "/var/run/secrets/s"])].sort()).toEqual([
      "run/hosts-real",
      "run/secrets",
      "run/secrets/s",
      "run/systemd",
      "run/systemd/resolve",
      "run/systemd/resolve/stub-resolv.conf",
    ]);
  });
});
