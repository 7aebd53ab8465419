import { canonicalJsonString } from "@tsbuild/oci";

/**
 * goJson encodes like Go's encoding/json for the maps docker prints with
 * `{{json .}}`: keys sorted, no whitespace, and `<`, `>`, `&` escaped as
 * \u003c, \u003e, \u0026 (so `<none>` prints as docker prints it).
 */
export function goJson(value: unknown): string {
  return canonicalJsonString(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** goIndentJson is Go's json.MarshalIndent(v, "", "    ") as `docker inspect` prints it. */
export function goIndentJson(value: unknown): string {
  return JSON.stringify(value, null, 4)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026");
}

/** goString prints a value as Go's text/template does for common JSON-shaped data. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (typeof v === "object") {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    return `map[${keys.map((k) => `${k}:${goString(obj[k])}`).join(" ")}]`;
  }
  return String(v);
}

/**
 * Template is a small subset of Go's text/template, enough for docker's
 * `--format` uses: literal text, `{{.Field}}`, `{{.A.B}}`, `{{.}}`,
 * `{{json .}}`, `{{json .Field}}`, `{{upper .X}}`/`{{lower .X}}`, and the
 * `table ` prefix handled by the caller. Unknown constructs are an error,
 * not silently printed.
 */
export class Template {
  readonly #parts: (
    | { text: string }
    | { fn: string | undefined; path: string[]; args: (string | number)[] }
  )[] = [];

  constructor(source: string) {
    const re = /\{\{-?\s*(.*?)\s*-?\}\}/g;
    let last = 0;
    for (const m of source.matchAll(re)) {
      this.#parts.push({ text: unescapeTabs(source.slice(last, m.index)) });
      const expr = m[1]!;
      const em =
        /^(?:(json|upper|lower|title)\s+)?(\.[A-Za-z0-9_.]*)$/.exec(expr) ??
        // `index .RepoDigests 0`, `index .Config.Labels "k"`, `join .RepoTags ","`: common in docker scripts.
        /^(index|join)\s+(\.[A-Za-z0-9_.]*)((?:\s+(?:\d+|"(?:[^"\\]|\\.)*"))+)$/.exec(expr);
      if (!em) throw new Error(`template: unsupported action {{${expr}}}`);
      const path = em[2] === "." ? [] : em[2]!.slice(1).split(".");
      const args = [...(em[3] ?? "").matchAll(/\d+|"(?:[^"\\]|\\.)*"/g)].map((a): string | number =>
        a[0].startsWith('"') ? (JSON.parse(a[0]) as string) : Number(a[0]),
      );
      if (em[1] === "join" && (args.length !== 1 || typeof args[0] !== "string")) {
        throw new Error(`template: join takes one string separator: {{${expr}}}`);
      }
      this.#parts.push({ fn: em[1], path, args });
      last = m.index + m[0].length;
    }
    this.#parts.push({ text: unescapeTabs(source.slice(last)) });
    // A "{{" left in the text opened an action that never closed; Go's text/template refuses it too.
    if (this.#parts.some((p) => "text" in p && p.text.includes("{{"))) {
      throw new Error("template: unclosed action");
    }
  }

  /** fields lists the top-level fields the template reads (for table headers). */
  fields(): string[] {
    return this.#parts.flatMap((p) => ("path" in p && p.path.length > 0 ? [p.path[0]!] : []));
  }

  execute(data: unknown): string {
    return this.#parts
      .map((p) => {
        if ("text" in p) return p.text;
        let v: unknown = data;
        for (const key of p.path) {
          if (v === null || typeof v !== "object") {
            throw new Error(`template: can't evaluate field ${key} in ${goString(v)}`);
          }
          const obj = v as Record<string, unknown>;
          if (!(key in obj)) throw new Error(`template: can't evaluate field ${key}`);
          v = obj[key];
        }
        switch (p.fn) {
          case "index":
            for (const key of p.args) {
              if (Array.isArray(v) && typeof key === "number") {
                if (key >= v.length)
                  throw new Error(`template: error calling index: index out of range: ${key}`);
                v = v[key];
              } else if (
                v !== null &&
                typeof v === "object" &&
                !Array.isArray(v) &&
                typeof key === "string"
              ) {
                v = (v as Record<string, unknown>)[key];
              } else {
                throw new Error(`template: error calling index: cannot index ${goString(v)} with ${key}`);
              }
            }
            return goString(v);
          case "join":
            if (!Array.isArray(v))
              throw new Error(`template: error calling join: ${goString(v)} is not a list`);
            return v.map(goString).join(String(p.args[0]));
          case "json":
            return goJson(v ?? null);
          case "upper":
            return goString(v).toUpperCase();
          case "lower":
            return goString(v).toLowerCase();
          case "title":
            return goString(v).replace(/\b\w/g, (c) => c.toUpperCase());
          default:
            return goString(v);
        }
      })
      .join("");
  }
}

/** unescapeTabs turns the `\t` and `\n` a shell passes literally into tabs and newlines, as docker does. */
function unescapeTabs(s: string): string {
  return s.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
}
