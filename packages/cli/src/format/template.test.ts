import { describe, expect, it } from "vitest";
import { Template } from "./template.js";

describe("Template (docker's --format subset of Go text/template)", () => {
  const data = {
    Repository: "app",
    Tag: "1",
    Config: { Cmd: ["sh"] },
    Tags: ["a", "b"],
    Labels: { "org.x": "y" },
  };
  const cases = [
    { source: "{{.Repository}}:{{.Tag}}", out: "app:1" },
    { source: "{{json .Config}}", out: '{"Cmd":["sh"]}' },
    { source: "{{ upper .Repository }}\\t}}", out: "APP\t}}" },
    { source: "{{index .Tags 1}}", out: "b" },
    { source: '{{index .Labels "org.x"}}|{{index .Labels "nope"}}', out: "y|<no value>" },
    { source: '{{join .Tags ", "}}', out: "a, b" },
  ];
  for (const c of cases) {
    it(`executes ${JSON.stringify(c.source)}`, () => {
      expect(new Template(c.source).execute(data)).toBe(c.out);
    });
  }

  // Go refuses these at parse time; printing the text back would hide the typo in a script.
  const bad = [
    { source: "{{.Repository", error: /unclosed action/ },
    { source: "x {{json .Config", error: /unclosed action/ },
    { source: "{{.Repository}} {{.Tag", error: /unclosed action/ },
    { source: "{{range .}}", error: /unsupported action/ },
    { source: "{{join .Tags}}", error: /unsupported action/ },
  ];
  for (const c of bad) {
    it(`rejects ${JSON.stringify(c.source)}`, () => {
      expect(() => new Template(c.source)).toThrow(c.error);
    });
  }
});

describe("Template index out of range", () => {
  it("is Go's error, not an empty string", () => {
    expect(() => new Template("{{index .Tags 5}}").execute({ Tags: ["a"] })).toThrow(
      "template: error calling index: index out of range: 5",
    );
  });
});
