import { describe, expect, it } from "vitest";
import { InsecurePolicy } from "./insecure.js";
import { backoffMs, parseRetryAfter } from "./retry.js";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it.each([
    ["0", 0],
    ["7", 7000],
    [" 120 ", 120_000],
    ["Thu, 01 Jan 2026 00:00:30 GMT", 30_000],
    ["Wed, 31 Dec 2025 23:00:00 GMT", 0],
    ["soon", undefined],
    [undefined, undefined],
  ])("%s → %s ms", (value, want) => {
    expect(parseRetryAfter(value, now)).toBe(want);
  });
});

describe("backoffMs", () => {
  it("doubles per attempt with jitter in [50%, 100%] and stays under the cap", () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const step = Math.min(1000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const ms = backoffMs(attempt, 100, 1000);
        expect(ms).toBeGreaterThanOrEqual(step / 2);
        expect(ms).toBeLessThanOrEqual(step);
      }
    }
  });
});

describe("InsecurePolicy", () => {
  const policy = new InsecurePolicy([
    "myreg.example:5000",
    "plain.example",
    "10.1.0.0/16",
    "https://withscheme.example/",
  ]);
  it.each([
    ["localhost:5000", true],
    ["127.0.0.1:5055", true],
    ["127.8.9.10", true],
    ["[::1]:5000", true],
    ["myreg.example:5000", true],
    ["myreg.example:5001", false],
    ["myreg.example", false],
    ["plain.example:8443", true],
    ["plain.example", true],
    ["withscheme.example", true],
    ["10.1.200.3:5000", true],
    ["10.2.0.1:5000", false],
    ["registry-1.docker.io", false],
  ])("%s insecure=%s", (host, want) => {
    expect(policy.isInsecure(host)).toBe(want);
  });
});
