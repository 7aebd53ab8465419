import { afterAll, describe, expect, it } from "vitest";
import { parseDockerfile } from "../dockerfile/dockerfile.js";
import { Linter } from "../dockerfile/lint/linter.js";
import { listConformance, readConformanceBytes } from "../testing/conformance.js";
import { planBuild } from "./plan.js";
import type { BuildPlan } from "./types.js";

// Every real-world Dockerfile of the shared corpus must turn into a valid plan, for its default target
// and with every stage planned (what --check does).

const files = listConformance("real-world", ".Dockerfile");
let planned = 0;

afterAll(() => {
  console.log(`real-world plans: ${planned}/${files.length} files`);
});

function expectValid(plan: BuildPlan): void {
  const indexes = plan.stages.map((s) => s.index);
  expect(indexes).toContain(plan.target);
  expect([...indexes].sort((a, b) => a - b)).toEqual(indexes);
  // Every planned stage is in exactly one wave, after every stage it needs.
  const wave = new Map<number, number>();
  plan.parallelGroups.forEach((g, i) => {
    for (const s of g) {
      expect(wave.has(s)).toBe(false);
      wave.set(s, i);
    }
  });
  expect([...wave.keys()].sort((a, b) => a - b)).toEqual(indexes);
  for (const stage of plan.stages) {
    for (const dep of stage.dependsOn) {
      expect(dep.stage).toBeLessThan(stage.index);
      expect(wave.get(dep.stage)!).toBeLessThan(wave.get(stage.index)!);
    }
    for (const step of stage.steps) {
      expect(step.expanded.kind).toBe(step.instruction.kind);
      for (const from of step.fromStages ?? []) expect(indexes).toContain(from);
    }
  }
}

describe("real-world Dockerfiles plan", () => {
  it("has the corpus", () => {
    expect(files.length).toBe(34);
  });
  it.each(files)("%s", (file) => {
    const df = parseDockerfile(readConformanceBytes("real-world", file), { file });
    const plan = planBuild(df);
    expectValid(plan);
    const all = planBuild(df, { allStages: true, linter: new Linter() });
    expectValid(all);
    expect(all.stages.length).toBe(all.stageCount);
    planned++;
  });

  it("prunes BuildKit's 49-stage file to what its default target needs", () => {
    const df = parseDockerfile(readConformanceBytes("real-world", "buildkit__Dockerfile.Dockerfile"));
    const plan = planBuild(df);
    expect(plan.stageCount).toBe(49);
    expect(plan.stages.length).toBeLessThan(49);
    expect(plan.parallelGroups[0]!.length).toBeGreaterThan(1);
  });
});
