import type { InstructionNode, ParsedDockerfile } from "./ast.js";
import { goQuote } from "./quote.js";

/** dumpNode prints one instruction as BuildKit's Node.Dump() does: `run ["--flag"] "arg" …`. */
export function dumpNode(node: InstructionNode): string {
  let s = node.keyword;
  if (node.flags.length > 0) s += ` [${node.flags.map(goQuote).join(" ")}]`;
  for (const a of node.args) s += ` ${goQuote(a)}`;
  if (node.sub) s += ` (${dumpNode(node.sub)})`;
  return s;
}

/**
 * dump prints the whole AST in the format of the reference parser's golden `result` files (without the
 * final newline the files add): one `(instruction)` per line.
 */
export function dump(ast: ParsedDockerfile): string {
  return ast.children.map((c) => `(${dumpNode(c)})`).join("\n");
}
