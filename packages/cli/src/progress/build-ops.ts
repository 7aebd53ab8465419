import type { BuildEvent } from "@tsbuild/builder";
import type { ProgressOp } from "./trace.js";

/** transferName names a step's byte count as BuildKit's sub-lines do: a push, a download, a copy. */
function transferName(text: string): string {
  if (text.startsWith("pushing ")) return "pushing layers";
  if (/^(\[[^\]]*\] )?ADD /.test(text)) return "downloading";
  return "transferring";
}

/**
 * BuildOps maps a library build event to what the progress views show: a step is a vertex named as
 * BuildKit names it, its output lines and byte counts hang under it; `base` and `image` show nothing
 * of their own (the FROM step and the export say it).
 */
export class BuildOps {
  readonly #names = new Map<number, string>();
  readonly #tags: readonly string[];

  /** tags are the names the image gets (full form), shown under the export as BuildKit's `naming to`. */
  constructor(tags: readonly string[] = []) {
    this.#tags = tags;
  }

  of(e: BuildEvent): ProgressOp[] {
    switch (e.type) {
      case "step":
        this.#names.set(e.id, e.name);
        return [{ op: "start", key: `step-${e.id}`, name: e.name }];
      case "cached":
        return [{ op: "cached", key: `step-${e.id}` }];
      case "done": {
        const key = `step-${e.id}`;
        const step = this.#names.get(e.id) ?? "";
        // A finished step's byte count is finished too.
        const ops: ProgressOp[] = [{ op: "status", key, id: transferName(step), done: true, ifExists: true }];
        if (step === "exporting to image") {
          ops.push({ op: "status", key, id: "exporting layers", done: true });
          for (const t of this.#tags) ops.push({ op: "status", key, id: `naming to ${t}`, done: true });
        }
        ops.push({ op: "done", key, seconds: e.seconds });
        return ops;
      }
      case "log":
        return [{ op: "log", key: `step-${e.id}`, data: e.data.toString("utf8") }];
      case "warning":
        return [{ op: "warning", message: e.message }];
      case "progress":
        return [
          {
            op: "status",
            key: `step-${e.id}`,
            id: transferName(this.#names.get(e.id) ?? ""),
            current: e.current,
            ...(e.total !== undefined && { total: e.total }),
          },
        ];
      default:
        return [];
    }
  }
}
