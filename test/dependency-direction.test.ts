import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The layering of DESIGN.md: each package may import only the ones after it. */
const ORDER = ["cli", "builder", "registry-client", "oci"] as const;
const ROOT = join(import.meta.dirname, "..", "packages");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" || name === "dist" ? [] : sources(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

describe("dependency direction cli → builder → registry-client → oci", () => {
  for (const [i, pkg] of ORDER.entries()) {
    const forbidden = ORDER.slice(0, i + 1).filter((p) => p !== pkg);
    it(`${pkg} imports none of ${forbidden.join(", ") || "(nothing forbidden)"}`, () => {
      const offenders: string[] = [];
      for (const file of sources(join(ROOT, pkg, "src"))) {
        const text = readFileSync(file, "utf8");
        for (const m of text.matchAll(
          /from\s+["']@tsbuild\/([\w-]+)["']|import\(\s*["']@tsbuild\/([\w-]+)["']/g,
        )) {
          const target = m[1] ?? m[2];
          if (target && forbidden.includes(target as (typeof ORDER)[number]))
            offenders.push(`${file}: ${target}`);
        }
        // Relative imports must not escape the package.
        for (const m of text.matchAll(/from\s+["'](\.\.\/[^"']+)["']/g)) {
          const resolved = join(file, "..", m[1]!);
          if (!resolved.startsWith(join(ROOT, pkg))) offenders.push(`${file}: ${m[1]}`);
        }
      }
      expect(offenders).toEqual([]);
    });
  }

  it("package.json dependencies follow the same order", () => {
    for (const [i, pkg] of ORDER.entries()) {
      const manifest = JSON.parse(readFileSync(join(ROOT, pkg, "package.json"), "utf8"));
      const deps = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
      const allowed = new Set(ORDER.slice(i + 1).map((p) => `@tsbuild/${p}`));
      const bad = deps.filter((d) => d.startsWith("@tsbuild/") && !allowed.has(d));
      expect(bad, pkg).toEqual([]);
    }
  });
});
