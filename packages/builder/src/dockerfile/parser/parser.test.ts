import { describe, expect, it } from "vitest";
import { DockerfileError } from "../../errors.js";
import { dump, goQuote, parse } from "./index.js";

function rejects(text: string): DockerfileError {
  try {
    parse(text, { file: "df" });
  } catch (e) {
    expect(e).toBeInstanceOf(DockerfileError);
    return e as DockerfileError;
  }
  throw new Error("expected a DockerfileError");
}

describe("goQuote", () => {
  it.each([
    ["plain", '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["\x00\x07\b\f\n\r\t\v\x1b\x7f", '"\\x00\\a\\b\\f\\n\\r\\t\\v\\x1b\\x7f"'],
    ["♥ é 日本", '"♥ é 日本"'],
    ["\u00a0\u2028\u00ad", '"\\u00a0\\u2028\\u00ad"'],
    ["\u{1F600}\u{E0001}", '"\u{1F600}\\U000e0001"'],
  ])("%j", (input, want) => expect(goQuote(input)).toBe(want));
});

describe("parse", () => {
  it("handles CRLF, a BOM and case-insensitive keywords", () => {
    const ast = parse("\uFEFFfrom a\r\nRun echo \\\r\n  hi\r\n");
    expect(dump(ast)).toBe('(from "a")\n(run "echo   hi")');
    expect(ast.children.map((c) => c.rawKeyword)).toEqual(["from", "Run"]);
  });

  it("accepts bytes and decodes UTF-8", () => {
    expect(dump(parse(new TextEncoder().encode('FROM a\nLABEL x="♥"\n')))).toBe(
      '(from "a")\n(label "x" "\\"♥\\"" "=")',
    );
  });

  it("prints invalid UTF-8 bytes as \\xNN like the reference, and U+FFFD inside JSON", () => {
    const bytes = Buffer.concat([
      Buffer.from("FROM a\nRUN echo "),
      Buffer.from([0xff, 0xe2, 0x82, 0x20, 0xed, 0xa0, 0x80]),
      Buffer.from(' \u00e9\nCMD ["'),
      Buffer.from([0xc3]),
      Buffer.from('"]\n'),
    ]);
    expect(dump(parse(bytes))).toBe(
      '(from "a")\n(run "echo \\xff\\xe2\\x82 \\xed\\xa0\\x80 \u00e9")\n(cmd "\uFFFD")',
    );
  });

  it("uses the backtick escape token for continuations and words", () => {
    const ast = parse("# escape=`\nFROM a\nRUN dir `\n  c:\\\nENV P C:\\go\n");
    expect(ast.escapeToken).toBe("`");
    expect(dump(ast)).toBe('(from "a")\n(run "dir   c:\\\\")\n(env "P" "C:\\\\go" "")');
  });

  it("keeps directives only at the top", () => {
    const ast = parse("# syntax=x/y:1\n# check=skip=all\nFROM a\n# escape=`\nRUN a \\\n b\n");
    expect(ast.directives).toEqual([
      { name: "syntax", value: "x/y:1", line: 1 },
      { name: "check", value: "skip=all", line: 2 },
    ]);
    expect(ast.escapeToken).toBe("\\");
    expect(dump(ast)).toBe('(from "a")\n(run "a  b")');
  });

  it("skips a shebang line before directives", () => {
    expect(parse("#!/usr/bin/env docker\n# escape=`\nFROM a\n").escapeToken).toBe("`");
  });

  it.each([
    ["# escape=\\\n# escape=`\nFROM a\n", "only one escape parser directive can be used", 2],
    ["# syntax=a\n# SYNTAX=b\nFROM a\n", "only one syntax parser directive can be used", 2],
    ["# escape=x\nFROM a\n", "invalid escape token 'x' does not match ` or \\", 1],
  ])("rejects bad directives %j", (text, message, line) => {
    const err = rejects(text);
    expect(err.code).toBe("INVALID_DIRECTIVE");
    expect(err.detail).toBe(message);
    expect(err.line).toBe(line);
  });

  it("reports empty continuation lines as warnings with their lines", () => {
    const ast = parse("FROM a\nRUN a \\\n\n  b\n");
    expect(ast.warnings).toEqual([
      expect.objectContaining({
        rule: "NoEmptyContinuation",
        short: "Empty continuation line found in: RUN a   b",
        startLine: 2,
        endLine: 4,
      }),
    ]);
  });

  it("counts continuation, comment and heredoc lines in the instruction's range", () => {
    const ast = parse("FROM a\n\nRUN <<EOF \\\n# c\n  && true\nbody\nEOF\nCMD x\n");
    expect(ast.children.map((c) => [c.keyword, c.startLine, c.endLine])).toEqual([
      ["from", 1, 1],
      ["run", 3, 7],
      ["cmd", 8, 8],
    ]);
    expect(ast.children[1]!.heredocs).toEqual([
      { name: "EOF", fileDescriptor: 0, expand: true, chomp: false, content: "body\n" },
    ]);
  });

  it("reads heredoc bodies raw, terminated after trimming CR, with tabs stripped for <<-", () => {
    const ast = parse('FROM a\nRUN <<-A cat - <<"B"\r\n\tx \\\r\n\t# kept\r\n\tA\r\n$y\r\nB\r\n');
    expect(ast.children[1]!.heredocs).toEqual([
      { name: "A", fileDescriptor: 0, expand: true, chomp: true, content: "\tx \\\r\n\t# kept\r\n" },
      { name: "B", fileDescriptor: 0, expand: false, chomp: false, content: "$y\r\n" },
    ]);
  });

  it("attaches heredocs to ONBUILD RUN/COPY but not to JSON forms or other instructions", () => {
    const ast = parse('FROM a\nONBUILD RUN <<E\nx\nE\nRUN ["<<F"]\nUSER <<G\nG\n');
    expect(dump(ast)).toBe('(from "a")\n(onbuild (run "<<E"))\n(run "<<F")\n(user "<<G")\n(g "")');
    expect(ast.children[1]!.heredocs.map((h) => h.name)).toEqual(["E"]);
    expect(ast.children[1]!.sub!.heredocs.map((h) => h.name)).toEqual(["E"]);
  });

  it("keeps the comments above an instruction", () => {
    expect(parse("# hello\n#  world \nFROM a\n").children[0]!.comments).toEqual(["hello", "world"]);
  });

  it("prints unknown instructions with one empty argument", () => {
    expect(dump(parse("FROM a\nFOO bar baz\n"))).toBe('(from "a")\n(foo "")');
  });

  it.each([
    ["", "EMPTY_DOCKERFILE", "file with no instructions", 0],
    ["# only\n\n   \n", "EMPTY_DOCKERFILE", "file with no instructions", 0],
    ["FROM a\nRUN <<EOF\nx\n", "UNTERMINATED_HEREDOC", "unterminated heredoc EOF", 2],
    [
      'FROM a\nCMD ["a", 1]\n',
      "INVALID_JSON",
      "when using JSON array syntax, arrays must be comprised of strings only",
      2,
    ],
    ["FROM a\nENV x\n", "INVALID_ARGUMENTS", "ENV must have two arguments", 2],
    [
      "FROM a\nLABEL a=b \\\n  c\n",
      "INVALID_ARGUMENTS",
      'Syntax error - can\'t find = in "c". Must be of the form: name=value',
      3,
    ],
    [
      `FROM a\nRUN ${"x".repeat(65536)}\n`,
      "LINE_TOO_LONG",
      "dockerfile line greater than max allowed size of 65535",
      2,
    ],
  ])("rejects %#", (text, code, message, line) => {
    const err = rejects(text);
    expect(err.code).toBe(code);
    expect(err.detail).toBe(message);
    expect(err.line).toBe(line);
    expect(err.file).toBe("df");
  });

  it("accepts a line of exactly 65535 bytes, counting UTF-8 bytes", () => {
    expect(() => parse(`FROM a\nRUN ${"x".repeat(65535 - 4)}\n`)).not.toThrow();
    expect(rejects(`FROM a\nRUN ${"é".repeat(32767)}\n`).code).toBe("LINE_TOO_LONG");
  });

  it("formats an error with the line and a caret", () => {
    const err = rejects("FROM a\n  LABEL a=b   oops\n");
    expect(err.format()).toBe(
      'df:2:15: Syntax error - can\'t find = in "oops". Must be of the form: name=value\n  2 |   LABEL a=b   oops\n    |               ^',
    );
  });
});
