import { describe, expect, it } from "vitest";
import { withIO } from "./output.js";
import { registryClient } from "./registry-options.js";

describe("registryClient", () => {
  it("takes insecure registries from flags, the environment and the config file", async () => {
    const env = {
      TSBUILD_INSECURE_REGISTRIES: "env.example:5000",
      TSBUILD_CONFIG: "/nonexistent/tsbuild.json",
    };
    const client = withIO({ env }, () => registryClient({ "insecure-registry": ["flag.example"] }));
    try {
      expect(client.isInsecure("flag.example:443")).toBe(true);
      expect(client.isInsecure("env.example:5000")).toBe(true);
      expect(client.isInsecure("other.example")).toBe(false);
      expect(client.isInsecure("localhost:5000")).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("fails clearly on a broken config file", () => {
    expect(() => withIO({ env: { TSBUILD_CONFIG: "/dev/null/x.json" } }, () => registryClient({}))).toThrow(
      /cannot read \/dev\/null\/x\.json/,
    );
  });
});
