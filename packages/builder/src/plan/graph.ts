import { errorAt } from "./located.js";
import type { PlannedStage } from "./types.js";

/** reachable returns the stages the target needs: itself, its base chain and every `--from` source, transitively. */
export function reachable(stages: readonly PlannedStage[], target: number): Set<number> {
  const seen = new Set<number>();
  const visit = (i: number) => {
    if (seen.has(i)) return;
    seen.add(i);
    for (const e of stages[i]!.dependsOn) visit(e.stage);
  };
  visit(target);
  return seen;
}

/**
 * checkCycles rejects a stage that needs itself through `COPY --from` / `RUN --mount from=` edges (a base
 * can only be an earlier stage, so it cannot close a cycle on its own), with BuildKit's message.
 */
export function checkCycles(stages: readonly PlannedStage[], lines: readonly string[]): void {
  const visited = new Set<number>();
  const onPath = new Set<number>();
  const visit = (i: number): PlannedStage["dependsOn"][number] | undefined => {
    if (visited.has(i)) return undefined;
    visited.add(i);
    onPath.add(i);
    for (const edge of stages[i]!.dependsOn) {
      if (edge.via === "from") continue;
      if (onPath.has(edge.stage)) return edge;
      const found = visit(edge.stage);
      if (found) return found;
    }
    onPath.delete(i);
    return undefined;
  };
  for (const stage of stages) {
    const edge = visit(stage.index);
    if (edge) {
      throw errorAt(
        lines,
        edge.location,
        "CIRCULAR_DEPENDENCY",
        `circular dependency detected on stage: ${stage.id}`,
      );
    }
  }
}

/**
 * parallelGroups orders the planned stages into waves: a stage goes in the wave after the latest wave
 * of the stages it needs, so every stage of a wave can run at the same time once earlier waves are done.
 */
export function parallelGroups(planned: readonly PlannedStage[]): number[][] {
  const level = new Map<number, number>();
  for (const stage of planned) {
    // Dependencies always point to earlier stages, so one pass in order is enough.
    let l = 0;
    for (const e of stage.dependsOn) {
      const dl = level.get(e.stage);
      if (dl !== undefined) l = Math.max(l, dl + 1);
    }
    level.set(stage.index, l);
  }
  const groups: number[][] = [];
  for (const stage of planned) {
    const l = level.get(stage.index)!;
    const group = groups[l] ?? [];
    group.push(stage.index);
    groups[l] = group;
  }
  return groups.filter((g) => g !== undefined);
}
