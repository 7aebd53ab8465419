import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
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

  it("tty: rows are redrawn in place with a bar", async () => {
    const { out, text } = capture();
    const rows = new LayerRows(out, "tty");
    rows.status("aaa", "Pulling fs layer");
    rows.status("bbb", "Already exists");
    rows.bytes("aaa", "Downloading", 50, 100);
    await new Promise((r) => setTimeout(r, 150));
    rows.status("aaa", "Pull complete");
    rows.finish();
    const t = text();
    expect(t).toContain("\x1b[2Kaaa: Downloading [");
    expect(t).toContain("\x1b[2A");
    expect(t.endsWith("\x1b[2Kaaa: Pull complete\n\x1b[2Kbbb: Already exists\n")).toBe(true);
  });

  it("auto is tty only on a terminal", () => {
    expect(progressMode("auto", Object.assign(new PassThrough(), { isTTY: true }))).toBe("tty");
    expect(progressMode("auto", new PassThrough())).toBe("plain");
    expect(progressMode("json", new PassThrough())).toBe("json");
  });
});
