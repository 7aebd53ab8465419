import { isSpace, splitWordSpaceOnce, trimSpace } from "./chars.js";

/** SplitCommand is a logical line cut into its keyword, its `--flags` and the rest. */
export interface SplitCommand {
  keyword: string;
  flags: string[];
  rest: string;
}

/** splitCommand cuts the keyword and the builder flags off a logical line (BuildKit splitCommand). */
export function splitCommand(line: string): SplitCommand {
  const parts = splitWordSpaceOnce(trimSpace(line));
  if (parts.length === 1) return { keyword: parts[0], flags: [], rest: "" };
  const { rest, flags } = extractBuilderFlags(parts[1]);
  return { keyword: parts[0], flags, rest: trimSpace(rest) };
}

enum Phase {
  Spaces,
  Word,
  Quote,
}

/**
 * extractBuilderFlags takes the leading words that start with `--`. Quotes are removed and `\` escapes
 * the next character; a bare `--` ends the flags and is dropped.
 */
export function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let phase = Phase.Spaces;
  let word = "";
  let quote = 0;
  let blankOK = false;
  let ch = 0;
  for (let pos = 0; pos <= line.length; pos++) {
    if (pos !== line.length) ch = line.charCodeAt(pos);
    if (phase === Phase.Spaces) {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== 0x2d || pos + 1 === line.length || line.charCodeAt(pos + 1) !== 0x2d) {
        return { rest: line.slice(pos), flags };
      }
      phase = Phase.Word;
    }
    if (pos === line.length) {
      if (word !== "--" && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === Phase.Word) {
      if (isSpace(ch)) {
        phase = Phase.Spaces;
        if (word === "--") return { rest: line.slice(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = Phase.Quote;
        continue;
      }
      if (ch === 0x5c) {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line.charCodeAt(pos);
      }
      word += String.fromCharCode(ch);
      continue;
    }
    // Phase.Quote
    if (ch === quote) {
      phase = Phase.Word;
      continue;
    }
    if (ch === 0x5c) {
      if (pos + 1 === line.length) {
        phase = Phase.Word;
        continue;
      }
      pos++;
      ch = line.charCodeAt(pos);
    }
    word += String.fromCharCode(ch);
  }
  return { rest: "", flags };
}
