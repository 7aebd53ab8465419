import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Screen } from "../testing-vt.js";
import { LayerRows, progressBar, progressMode } from "./registry-progress.js";

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString() };
}

describe("progressBar", () => {
  it.each([
    [0, 100, `[${" ".repeat(50)}]`],
    [50, 100, `[${"=".repeat(24)}>${" ".repeat(25)}]`],
    [100, 100, `[${"=".repeat(49)}>]`],
  ])("%d of %d", (current, total, bar) => {
    expect(progressBar(current, total).startsWith(bar)).toBe(true);
  });

  it("shows sizes like docker", () => {
    expect(progressBar(25_100_000, 70_200_000)).toMatch(/\] {3}25\.1MB\/70\.2MB$/);
  });
});

describe("LayerRows", () => {
  it("plain: one line per state change, no byte counts", () => {
    const { out, text } = capture();
    const rows = new LayerRows(out, "plain");
    rows.status("aaa", "Pulling fs layer");
    rows.bytes("aaa", "Downloading", 10, 100);
    rows.status("aaa", "Pulling fs layer");
    rows.status("aaa", "Pull complete");
    rows.line("Digest: x");
    expect(text()).toBe("aaa: Pulling fs layer\naaa: Pull complete\nDigest: x\n");
  });

  it("tty: rows are rows of the live view, redrawn in place with a bar, bytes and their time", async () => {
    const { out, text } = capture();
    const rows = new LayerRows(out, "tty", { phase: "Pulling" });
    rows.status("aaa", "Pulling fs layer");
    rows.status("bbb", "Already exists");
    rows.bytes("aaa", "Downloading", 50, 100);
    await new Promise((r) => setTimeout(r, 150));
    const live = new Screen(80).write(text()).text();
    expect(live).toMatch(/\n => aaa: Downloading \[=====> {6}\] 50B \/ 100B +\d\.\ds\n/);
    rows.status("aaa", "Pull complete");
    rows.finish();
    expect(text()).toMatch(/\x1b\[\dA/);
    expect(
      new Screen(80)
        .write(text())
        .text()
        .replace(/\d+\.\ds/g, "T"),
    ).toBe(
      [
        "[+] Pulling T (2/2) FINISHED",
        " => aaa: Pull complete                                                     T",
        " => bbb: Already exists                                                    T",
      ].join("\n"),
    );
  });

  it("auto is tty only on a terminal", () => {
    expect(progressMode("auto", Object.assign(new PassThrough(), { isTTY: true }))).toBe("tty");
    expect(progressMode("auto", new PassThrough())).toBe("plain");
    expect(progressMode("json", new PassThrough())).toBe("json");
  });
});
