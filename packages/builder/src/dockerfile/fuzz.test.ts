import { describe, expect, it } from "vitest";
import { DockerfileError } from "../errors.js";
import { listConformance, readConformanceBytes } from "../testing/conformance.js";
import { mulberry32, pick } from "../testing/prng.js";
import { parseDockerfile } from "./dockerfile.js";
import { parse } from "./parser/index.js";

const TOKENS = [
  "FROM ",
  "RUN ",
  "COPY ",
  "ADD ",
  "ONBUILD ",
  "HEALTHCHECK ",
  "ENV ",
  "ARG ",
  "LABEL ",
  "SHELL ",
  "CMD ",
  "--mount=",
  "--from=",
  "--chmod=",
  "--interval=",
  "type=cache,",
  "target=/x",
  "\\\n",
  "`\n",
  "\n",
  "\r\n",
  "<<EOF",
  "<<-'E'",
  "EOF\n",
  "E\n",
  '["a", "b"]',
  "[1]",
  "[",
  "]",
  '"',
  "'",
  "${",
  "}",
  "$X",
  "# escape=`\n",
  "# syntax=x\n",
  "#",
  "=",
  " ",
  "\t",
  "\u00a0",
  "\uFEFF",
  "\u0000",
  "é",
  "AS ",
  "NONE",
  "CMD",
  "\\",
];

/** expectOnlyDockerfileErrors parses `input` and fails on any exception other than DockerfileError. */
function expectOnlyDockerfileErrors(input: string | Uint8Array, seed: number): "ok" | "rejected" {
  try {
    parseDockerfile(input, { file: "fuzz" });
    return "ok";
  } catch (e) {
    if (!(e instanceof DockerfileError)) {
      throw new Error(
        `seed ${seed}: non-DockerfileError ${String(e)} for ${JSON.stringify(String(input)).slice(0, 300)}`,
      );
    }
    expect(typeof e.format()).toBe("string");
    return "rejected";
  }
}

describe("fuzz: the parser throws only DockerfileError", () => {
  it("random byte strings (2000 seeds)", () => {
    const tally = { ok: 0, rejected: 0 };
    for (let seed = 1; seed <= 2000; seed++) {
      const rnd = mulberry32(seed);
      const len = Math.floor(rnd() * 400);
      const bytes = new Uint8Array(len);
      for (let i = 0; i < len; i++) bytes[i] = Math.floor(rnd() * 256);
      tally[expectOnlyDockerfileErrors(bytes, seed)]++;
    }
    expect(tally.ok + tally.rejected).toBe(2000);
  });

  it("random token soups (3000 seeds)", () => {
    const tally = { ok: 0, rejected: 0 };
    for (let seed = 1; seed <= 3000; seed++) {
      const rnd = mulberry32(seed * 7919);
      let text = rnd() < 0.8 ? "FROM a\n" : "";
      const n = 1 + Math.floor(rnd() * 40);
      for (let i = 0; i < n; i++) text += pick(rnd, TOKENS);
      tally[expectOnlyDockerfileErrors(text, seed)]++;
    }
    // the soup must exercise both paths, or the generator is useless
    expect(tally.ok).toBeGreaterThan(50);
    expect(tally.rejected).toBeGreaterThan(50);
  });

  it("mutated real-world Dockerfiles (3000 mutations)", () => {
    const files = listConformance("real-world", ".Dockerfile").map((f) =>
      readConformanceBytes("real-world", f).toString("utf8"),
    );
    const tally = { ok: 0, rejected: 0 };
    for (let seed = 1; seed <= 3000; seed++) {
      const rnd = mulberry32(seed * 104729);
      let text = files[seed % files.length]!;
      const edits = 1 + Math.floor(rnd() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * (text.length + 1));
        const kind = rnd();
        if (kind < 0.4) text = text.slice(0, at) + pick(rnd, TOKENS) + text.slice(at);
        else if (kind < 0.7) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rnd() * 40));
        else if (kind < 0.85) {
          const c = String.fromCharCode(Math.floor(rnd() * 128));
          text = text.slice(0, at) + c + text.slice(at + 1);
        } else {
          const lines = text.split("\n");
          const i = Math.floor(rnd() * lines.length);
          const j = Math.floor(rnd() * lines.length);
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
          text = lines.join("\n");
        }
      }
      tally[expectOnlyDockerfileErrors(text, seed)]++;
    }
    expect(tally.ok).toBeGreaterThan(100);
    expect(tally.rejected).toBeGreaterThan(100);
  });
});

describe("linear time on long lines and long continuations", () => {
  it("joins 100k continuation lines into one 1.2 MB instruction", () => {
    const text = `FROM a\nRUN echo start \\\n${"  && echo x \\\n".repeat(100_000)}  && echo end\n`;
    const ast = parse(text);
    expect(ast.children[1]!.endLine).toBe(100_003);
    expect(ast.children[1]!.args[0]!.length).toBeGreaterThan(1_200_000);
  });

  it("splits a 1 MB ENV/LABEL/ARG logical line full of quotes and escapes", () => {
    const chunk = 'k="a \\" b" \'c d\' \\\n';
    const df = parseDockerfile(
      `FROM a\nARG ${chunk.repeat(60_000)}z\nLABEL ${'x="1 2" \\\n'.repeat(60_000)}y=2\n`,
    );
    expect(df.instructions[1]!.kind === "arg" && df.instructions[1]!.args.length).toBe(120_001);
    expect(df.instructions[2]!.kind === "label" && df.instructions[2]!.pairs.length).toBe(60_001);
  });

  it("scans 1 MB of heredoc openers, flags and heredoc bodies", () => {
    const n = 20_000;
    const openers = Array.from({ length: n }, (_, i) => `<<H${i}`).join(" \\\n");
    const bodies = Array.from({ length: n }, (_, i) => `body ${i}\nH${i}\n`).join("");
    const flags = "--exclude=x ".repeat(50_000);
    const ast = parse(`FROM a\nCOPY ${openers} /d/\n${bodies}COPY ${flags.slice(0, 60_000)} a b\n`);
    expect(ast.children[1]!.heredocs.length).toBe(n);
    expect(ast.children[2]!.flags.length).toBe(5000);
  });

  it("rejects a 1 MB physical line quickly with LINE_TOO_LONG", () => {
    const line = `RUN ${"\\".repeat(1 << 20)}`;
    expect(() => parse(`FROM a\n${line}\n`)).toThrow(/max allowed size of 65535/);
  });

  it("handles pathological near-limit lines (long runs of quotes, <<, escapes)", () => {
    for (const unit of ['"', "'", "<<", "\\", "$", "${", "--", "= ", "\t "]) {
      const body = unit.repeat(Math.floor(65_000 / unit.length));
      for (const kw of ["RUN", "COPY", "ENV", "ARG", "LABEL", "FROM", "HEALTHCHECK"]) {
        try {
          parseDockerfile(`FROM a\n${kw} ${body}\n`);
        } catch (e) {
          expect(e).toBeInstanceOf(DockerfileError);
        }
      }
    }
  });
});
