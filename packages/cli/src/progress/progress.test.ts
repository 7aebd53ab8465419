import { describe, expect, it } from "vitest";
import { logTime, PlainPrinter } from "./plain.js";
import { bytes, type ProgressOp, Trace } from "./trace.js";
import { screen } from "./tty.js";

/** replay applies [ms, op] pairs to a fresh trace. */
function replay(ops: [number, ProgressOp][]): Trace {
  const t = new Trace();
  for (const [at, op] of ops) t.apply(op, at);
  return t;
}

const BUILD: [number, ProgressOp][] = [
  [0, { op: "start", key: "1", name: "[1/3] FROM docker.io/library/busybox:1@sha256:abc" }],
  [0, { op: "cached", key: "1" }],
  [10, { op: "done", key: "1", seconds: 0 }],
  [20, { op: "start", key: "2", name: "[2/3] RUN make" }],
  [500, { op: "log", key: "2", data: "one\ntwo\nthr" }],
  [1200, { op: "log", key: "2", data: "ee\n" }],
];

describe("PlainPrinter (BuildKit's plain progress)", () => {
  it("prints #N headers, timed output, CACHED and DONE, and #N ... when output switches", () => {
    let out = "";
    const p = new PlainPrinter(new Trace(), (s) => {
      out += s;
    });
    for (const [at, op] of BUILD) p.apply(op, at);
    p.apply({ op: "start", key: "3", name: "[build 1/1] COPY . /src" }, 1300);
    p.apply({ op: "status", key: "3", id: "transferring context", current: 2100 }, 1300);
    p.apply({ op: "done", key: "3", seconds: 0.25 }, 1550);
    p.apply({ op: "log", key: "2", data: "four" }, 12_000);
    p.apply({ op: "done", key: "2" }, 12_500);
    expect(out).toBe(
      [
        "#1 [1/3] FROM docker.io/library/busybox:1@sha256:abc",
        "#1 CACHED",
        "",
        "#2 [2/3] RUN make",
        "#2 0.480 one",
        "#2 0.480 two",
        "#2 1.180 three",
        "#2 ...",
        "",
        "#3 [build 1/1] COPY . /src",
        "#3 transferring context 2.10kB",
        "#3 DONE 0.3s",
        "",
        "#2 [2/3] RUN make",
        "#2 12.48 four",
        "#2 DONE 12.5s",
        "",
      ].join("\n"),
    );
    expect(out).not.toContain("\x1b");
  });

  it("times output as BuildKit does and sizes bytes as go-units does", () => {
    expect([logTime(512), logTime(12_345), logTime(123_456)]).toEqual(["0.512", "12.35", "123.5"]);
    expect([bytes(84), bytes(2100), bytes(3_400_000)]).toEqual(["84B", "2.10kB", "3.40MB"]);
  });
});

describe("screen (BuildKit's TTY view)", () => {
  const opts = { now: 3200, width: 60, height: 20, color: false, final: false };

  it("shows the header, a line per step with its time, and a running step's last 6 output lines", () => {
    const t = replay([
      ...BUILD,
      [1300, { op: "log", key: "2", data: "4\n5\n6\n7\n8\n" }],
      [
        1400,
        { op: "log", key: "2", data: "a very long line that is cut where the terminal ends, minus ten" },
      ],
    ]);
    expect(screen(t, opts)).toEqual([
      "[+] Building 3.2s (1/2)",
      " => CACHED [1/3] FROM docker.io/library/busybox:1@sha  0.0s",
      " => [2/3] RUN make                                     3.2s",
      " => => # 4",
      " => => # 5",
      " => => # 6",
      " => => # 7",
      " => => # 8",
      " => => # a very long line that is cut where the terminal en",
    ]);
  });

  it("says FINISHED on the final paint, drops finished output, and colors only when asked", () => {
    const t = replay([...BUILD, [3000, { op: "done", key: "2", seconds: 2.98 }]]);
    const final = screen(t, { ...opts, final: true });
    expect(final).toEqual([
      "[+] Building 3.2s (2/2) FINISHED",
      " => CACHED [1/3] FROM docker.io/library/busybox:1@sha  0.0s",
      " => [2/3] RUN make                                     3.0s",
    ]);
    expect(final.join("")).not.toContain("\x1b");
    const colored = screen(t, { ...opts, final: true, color: true });
    expect(colored[2]).toBe(`\x1b[34m${final[2]}\x1b[0m`);
  });

  it("shows byte counts and a rate under a step, and keeps running lines when the screen is short", () => {
    const t = replay([
      [0, { op: "start", key: "a", name: "done one" }],
      [0, { op: "done", key: "a" }],
      [0, { op: "start", key: "b", name: "done two" }],
      [0, { op: "done", key: "b" }],
      [0, { op: "start", key: "c", name: "pulling" }],
      [0, { op: "status", key: "c", id: "sha256:0123", current: 0, total: 4_000_000 }],
      [1000, { op: "status", key: "c", id: "sha256:0123", current: 1_000_000 }],
    ]);
    expect(screen(t, { ...opts, now: 1000, width: 80, height: 4 })).toEqual([
      "[+] Building 1.0s (2/3)",
      " => pulling                                                                1.0s",
      " => => sha256:0123 1.00MB / 4.00MB 1.00MB/s                                1.0s",
    ]);
  });

  it("marks a failed step ERROR and the others CANCELED", () => {
    const t = replay([
      [0, { op: "start", key: "a", name: "[a 1/1] RUN sleep 9" }],
      [0, { op: "start", key: "b", name: "[b 1/1] RUN false" }],
    ]);
    t.fail("exit code: 1", 500);
    expect(screen(t, { ...opts, final: true }).slice(1)).toEqual([
      " => CANCELED [a 1/1] RUN sleep 9                       0.5s",
      " => ERROR [b 1/1] RUN false                            0.5s",
    ]);
  });
});
