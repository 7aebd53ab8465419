import { describe, expect, it } from "vitest";
import { createdSince, humanDuration } from "./duration.js";
import { imageIdCell, shortId } from "./id.js";
import { formatG, humanSize } from "./size.js";
import { ellipsis, formatTable } from "./table.js";

describe("humanSize (go-units HumanSizeWithPrecision)", () => {
  it.each([
    [0, 3, "0B"],
    [1, 3, "1B"],
    [999, 3, "999B"],
    [1000, 3, "1kB"],
    [1234, 3, "1.23kB"],
    [7_234_567, 3, "7.23MB"],
    [7_200_000, 3, "7.2MB"],
    [187_654_321, 3, "188MB"],
    [77_800_000, 3, "77.8MB"],
    [1_500_000_000, 3, "1.5GB"],
    [999_500, 3, "1e+03kB"], // Go's %.3g carries into an exponent; docker prints this too.
    [12_345_678, 4, "12.35MB"],
    [12_300_000, 4, "12.3MB"],
    [5, 4, "5B"],
  ])("%d bytes at %d digits → %s", (bytes, precision, expected) => {
    expect(humanSize(bytes, precision)).toBe(expected);
  });

  it.each([
    [0.00001234, 3, "1.23e-05"],
    [123456, 3, "1.23e+05"],
    [100, 3, "100"],
    [0.5, 3, "0.5"],
  ])("formatG(%d, %d) = %s", (x, p, expected) => {
    expect(formatG(x, p)).toBe(expected);
  });
});

describe("humanDuration (go-units)", () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  it.each([
    [-5 * s, "Less than a second"],
    [500, "Less than a second"],
    [1 * s, "1 second"],
    [59 * s, "59 seconds"],
    [60 * s, "About a minute"],
    [119 * s, "About a minute"],
    [2 * m, "2 minutes"],
    [59 * m, "59 minutes"],
    [60 * m, "About an hour"],
    [89 * m, "About an hour"],
    [90 * m, "2 hours"],
    [47 * h, "47 hours"],
    [48 * h, "2 days"],
    [13 * d, "13 days"],
    [14 * d, "2 weeks"],
    [59 * d, "8 weeks"],
    [60 * d, "2 months"],
    [729 * d, "24 months"],
    [730 * d, "2 years"],
    [3650 * d, "10 years"],
  ])("%d ms → %s", (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });

  it("createdSince appends ago and says N/A for no time", () => {
    const now = Date.parse("2024-01-01T12:00:00Z");
    expect(createdSince("2024-01-01T10:00:00Z", now)).toBe("2 hours ago");
    expect(createdSince("2024-01-01T10:59:00Z", now)).toBe("About an hour ago");
    expect(createdSince(undefined, now)).toBe("N/A");
    expect(createdSince("0001-01-01T00:00:00Z", now)).toBe("N/A");
  });
});

describe("formatTable (text/tabwriter minwidth 10, padding 3)", () => {
  it("pads all but the last column", () => {
    const out = formatTable([
      ["REPOSITORY", "TAG", "IMAGE ID", "SIZE"],
      ["custom-nginx", "packaged", "0123456789ab", "7.2MB"],
      ["a", "b", "c", "d"],
    ]);
    expect(out).toBe(
      "REPOSITORY     TAG        IMAGE ID       SIZE\n" +
        "custom-nginx   packaged   0123456789ab   7.2MB\n" +
        "a              b          c              d\n",
    );
  });

  it("counts code points, not UTF-16 units or bytes", () => {
    const out = formatTable([
      ["héllo-wörld-ü", "x"],
      ["a", "y"],
    ]);
    expect(out.split("\n")[1]).toBe(`a${" ".repeat(15)}y`);
  });

  it("ellipsis cuts to max with …", () => {
    expect(ellipsis("abcdef", 6)).toBe("abcdef");
    expect(ellipsis("abcdefg", 6)).toBe("abcde…");
    expect(ellipsis("ab", 1)).toBe("a");
    expect([...ellipsis("é".repeat(50), 45)]).toHaveLength(45);
  });
});

describe("ids", () => {
  const d = `sha256:${"0123456789abcdef".repeat(4)}`;
  it("shortens to 12 hex characters", () => {
    expect(shortId(d)).toBe("0123456789ab");
    expect(imageIdCell(d, false)).toBe("0123456789ab");
    expect(imageIdCell(d, true)).toBe(d);
  });
});
