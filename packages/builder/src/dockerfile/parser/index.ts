export type { Directive, Heredoc, InstructionNode, ParsedDockerfile, ParseWarning } from "./ast.js";
export { detectSyntax, findDirective, matchDirectiveLine, parseDirectives } from "./directives.js";
export { dump, dumpNode } from "./dump.js";
export { chompHeredocContent, heredocsFromLine, parseHeredocWord } from "./heredoc.js";
export { parseJSONArray, parseNameVal, parseWords } from "./line-parsers.js";
export { MAX_LINE_BYTES, type ParseOptions, parse } from "./parser.js";
export { goQuote } from "./quote.js";
