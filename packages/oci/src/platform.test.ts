import { describe, expect, it } from "vitest";
import { isOciError } from "./errors.js";
import {
  formatPlatform,
  hostPlatform,
  matchPlatform,
  normalizePlatform,
  parsePlatform,
  parsePlatformObject,
  platformVector,
  selectPlatform,
} from "./platform.js";
import type { Platform } from "./types.js";

const host: Platform = { os: "linux", architecture: "amd64" };
const p = (s: string) => parsePlatform(s, host);

describe("parsePlatform", () => {
  it.each([
    ["linux/amd64", "linux/amd64"],
    ["linux/arm64/v8", "linux/arm64/v8"],
    ["linux/arm64", "linux/arm64/v8"],
    ["linux/aarch64", "linux/arm64/v8"],
    ["linux/arm64/8", "linux/arm64/v8"],
    ["linux/arm64/v8.0", "linux/arm64/v8"],
    ["linux/arm64/9", "linux/arm64/v9"],
    ["linux/x86_64", "linux/amd64"],
    ["linux/x86-64", "linux/amd64"],
    ["linux/amd64/v1", "linux/amd64"],
    ["linux/amd64/v3", "linux/amd64/v3"],
    ["linux/i386", "linux/386"],
    ["linux/armhf", "linux/arm/v7"],
    ["linux/armel", "linux/arm/v6"],
    ["linux/arm", "linux/arm/v7"],
    ["linux/arm/7", "linux/arm/v7"],
    ["linux/arm/6", "linux/arm/v6"],
    ["Linux/AMD64", "linux/amd64"],
    ["macos/arm64", "darwin/arm64/v8"],
    ["windows/amd64", "windows/amd64"],
    ["linux/ppc64le", "linux/ppc64le"],
    ["linux/riscv64", "linux/riscv64"],
    ["linux", "linux/amd64"],
    ["windows", "windows/amd64"],
    ["arm64", "linux/arm64/v8"],
    ["aarch64", "linux/arm64/v8"],
    ["s390x", "linux/s390x"],
  ])("%s → %s", (input, expected) => {
    expect(formatPlatform(p(input))).toBe(expected);
  });

  it("reads an os version in parentheses", () => {
    expect(p("windows(10.0.17763)/amd64")).toEqual({
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.17763",
    });
  });

  it.each([
    ["", /empty/],
    ["linux/amd64/v8/extra", /more than three/],
    ["linux//v7", /architecture "" is not a valid name/],
    ["linux/am d64", /architecture "am d64"/],
    ["notanos", /unknown operating system or architecture "notanos"/],
  ])("rejects %j", (input, message) => {
    try {
      p(input);
      expect.unreachable();
    } catch (err) {
      expect(isOciError(err, "INVALID_PLATFORM")).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe("normalizePlatform", () => {
  it("keeps os.version and os.features", () => {
    expect(
      normalizePlatform({
        os: "Windows",
        architecture: "X86_64",
        "os.version": "10.0",
        "os.features": ["win32k"],
      }),
    ).toEqual({ os: "windows", architecture: "amd64", "os.version": "10.0", "os.features": ["win32k"] });
  });
});

describe("hostPlatform", () => {
  it("maps node's names to OCI names", () => {
    const h = hostPlatform();
    expect(h.os).toBe(process.platform === "win32" ? "windows" : process.platform);
    const expected: Record<string, string> = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" };
    expect(h.architecture).toBe(expected[process.arch] ?? h.architecture);
    expect(formatPlatform(normalizePlatform(h))).toBe(formatPlatform(h));
  });
});

describe("matchPlatform (containerd's Only)", () => {
  it.each([
    ["linux/arm64", "linux/arm64/v8", true],
    ["linux/arm64/v8", "linux/arm64", true],
    ["linux/arm64", "linux/aarch64", true],
    ["linux/arm64/v8.2", "linux/arm64/v8.1", true],
    ["linux/arm64/v8", "linux/arm64/v8.1", false],
    ["linux/arm64", "linux/arm/v7", true],
    ["linux/arm64", "linux/arm/v8", true],
    ["linux/arm/v7", "linux/arm/v7", true],
    ["linux/arm/v7", "linux/arm/v6", true],
    ["linux/arm/v7", "linux/arm/v5", true],
    ["linux/arm/v6", "linux/arm/v7", false],
    ["linux/arm/v7", "linux/arm64", false],
    ["linux/amd64", "linux/386", true],
    ["linux/amd64", "linux/x86_64", true],
    ["linux/amd64/v3", "linux/amd64/v2", true],
    ["linux/amd64/v3", "linux/amd64", true],
    ["linux/amd64", "linux/amd64/v2", false],
    ["linux/386", "linux/amd64", false],
    ["linux/amd64", "windows/amd64", false],
    ["linux/amd64", "linux/arm64", false],
  ])("%s runs %s: %s", (wanted, candidate, expected) => {
    expect(matchPlatform(p(wanted), p(candidate))).toBe(expected);
  });

  it("compares windows os.version by major.minor.build", () => {
    const w = p("windows(10.0.17763.1)/amd64");
    expect(matchPlatform(w, p("windows(10.0.17763.2000)/amd64"))).toBe(true);
    expect(matchPlatform(w, p("windows(10.0.20348.1)/amd64"))).toBe(false);
    expect(matchPlatform(w, p("windows/amd64"))).toBe(true);
  });

  it("vectors are best first", () => {
    expect(platformVector(p("linux/arm/v7")).map(formatPlatform)).toEqual([
      "linux/arm/v7",
      "linux/arm/v6",
      "linux/arm/v5",
    ]);
    expect(platformVector(p("linux/arm64")).map(formatPlatform)).toEqual([
      "linux/arm64/v8",
      "linux/arm/v8",
      "linux/arm/v7",
      "linux/arm/v6",
      "linux/arm/v5",
    ]);
    expect(platformVector(p("linux/amd64/v3")).map(formatPlatform)).toEqual([
      "linux/amd64/v3",
      "linux/amd64/v2",
      "linux/amd64",
      "linux/386",
    ]);
  });
});

describe("selectPlatform", () => {
  const d = (name: string, platform?: Platform) => ({ name, ...(platform ? { platform } : {}) });
  const index = [
    d("attestation", { os: "unknown", architecture: "unknown" }),
    d("v5", { os: "linux", architecture: "arm", variant: "v5" }),
    d("amd64", { os: "linux", architecture: "amd64" }),
    d("v6", { os: "linux", architecture: "arm", variant: "v6" }),
    d("noplatform"),
    d("v7", { os: "linux", architecture: "arm", variant: "v7" }),
    d("arm64", { os: "linux", architecture: "arm64", variant: "v8" }),
  ];
  it.each([
    ["linux/arm/v7", ["v7", "v6", "v5"]],
    ["linux/arm/v6", ["v6", "v5"]],
    ["linux/arm64", ["arm64", "v7", "v6", "v5"]],
    ["linux/amd64", ["amd64"]],
    ["linux/s390x", []],
  ])("%s picks %j", (wanted, names) => {
    expect(selectPlatform(index, p(wanted)).map((x) => x.name)).toEqual(names);
  });

  it("keeps index order among equal matches", () => {
    const twins = [
      d("first", { os: "linux", architecture: "amd64" }),
      d("second", { os: "linux", architecture: "x86_64" }),
    ];
    expect(selectPlatform(twins, p("linux/amd64")).map((x) => x.name)).toEqual(["first", "second"]);
  });
});

describe("parsePlatformObject", () => {
  it("accepts a full platform", () => {
    expect(
      parsePlatformObject({ os: "linux", architecture: "arm", variant: "v7", "os.features": ["x"] }, "p"),
    ).toEqual({ os: "linux", architecture: "arm", variant: "v7", "os.features": ["x"] });
  });
  it.each([
    [{ os: "linux" }, "m.platform.architecture: required field is missing"],
    [{ os: 1, architecture: "amd64" }, "m.platform.os: expected a string, got a number (1)"],
    [{ os: "linux", architecture: "" }, "m.platform.architecture: must not be empty"],
    [
      { os: "linux", architecture: "amd64", "os.features": [1] },
      "m.platform.os.features[0]: expected a string",
    ],
    ["linux/amd64", "m.platform: expected an object"],
  ])("rejects %j", (v, message) => {
    expect(() => parsePlatformObject(v, "m.platform")).toThrow(message);
  });
});
