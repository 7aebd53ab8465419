import { describe, expect, it } from "vitest";
import { tsb } from "./commands/__fixtures__/image.js";
import { tempDir } from "./testing.js";

describe("top level", () => {
  it("unknown commands and subcommands exit 2", async () => {
    const root = await tempDir();
    for (const args of [["bogus"], ["image", "bogus"], ["image"], []]) {
      const r = await tsb(root, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
    }
  });
});
