import { chompHeredocContent, parseHeredocWord } from "../parser/heredoc.js";
import type { InstructionContext } from "./context.js";
import { type FlagValues, parseFlags } from "./flags.js";
import type { AddInstruction, CopyInstruction, CopyLikeFields, HeredocSource } from "./types.js";

const OCTAL_MODE = /^[0-7]{1,4}$/;
const SYMBOLIC_MODE = /^([ugoa]*[-+=]([rwxXst]*|[ugo]))+(,([ugoa]*[-+=]([rwxXst]*|[ugo]))+)*$/;

function heredocWord(w: string): ReturnType<typeof parseHeredocWord> {
  try {
    return parseHeredocWord(w);
  } catch {
    return undefined;
  }
}

const isHeredocWord = (w: string) => heredocWord(w) !== undefined;

function sourcesAndDest(ctx: InstructionContext, name: string, flags: FlagValues): CopyLikeFields {
  const { args, json } = ctx.node;
  if (args.length < 2) {
    throw ctx.error(
      "INVALID_ARGUMENTS",
      args.length === 0
        ? `${name} requires at least two arguments`
        : `${name} requires at least two arguments, but only one was provided. Destination could not be determined`,
      args[0],
    );
  }
  const dest = args[args.length - 1]!;
  const byName = new Map(json ? [] : ctx.node.heredocs.map((h) => [h.name, h] as const));
  if (byName.size > 0 && isHeredocWord(dest)) {
    throw ctx.error("INVALID_ARGUMENTS", `${name} cannot accept a heredoc as a destination`, dest);
  }
  const sources: string[] = [];
  const contents: HeredocSource[] = [];
  for (const src of args.slice(0, -1)) {
    const word = byName.size > 0 ? heredocWord(src) : undefined;
    if (word) {
      // the body is looked up by name, as BuildKit does
      const content = byName.get(word.name)?.content ?? "";
      contents.push({
        path: word.name,
        data: word.chomp ? chompHeredocContent(content) : content,
        expand: word.expand,
      });
    } else sources.push(src);
  }
  const chmod = flags.string("chmod");
  if (chmod !== undefined && !chmod.includes("$") && !OCTAL_MODE.test(chmod) && !SYMBOLIC_MODE.test(chmod)) {
    throw ctx.error(
      "INVALID_FLAG_VALUE",
      `invalid chmod parameter ${JSON.stringify(chmod)}: use octal (0755) or symbolic (u+x)`,
      "--chmod",
    );
  }
  const chown = flags.string("chown");
  if (chown === "") throw ctx.error("INVALID_FLAG_VALUE", "--chown requires a value", "--chown");
  const out: CopyLikeFields = {
    sources,
    contents,
    dest,
    json,
    link: flags.bool("link") ?? false,
    excludes: flags.strings("exclude"),
  };
  if (chown !== undefined) out.chown = chown;
  if (chmod !== undefined) out.chmod = chmod;
  return out;
}

/** parseCopy parses `COPY [--from] [--chown] [--chmod] [--link] [--parents] [--exclude]… src… dest`. */
export function parseCopy(ctx: InstructionContext): CopyInstruction {
  const flags = parseFlags(ctx, {
    from: "string",
    chown: "string",
    chmod: "string",
    link: "bool",
    parents: "bool",
    exclude: "strings",
  });
  const out: CopyInstruction = Object.assign(ctx.base("copy"), sourcesAndDest(ctx, "COPY", flags), {
    parents: flags.bool("parents") ?? false,
  });
  const from = flags.string("from");
  if (from !== undefined) {
    if (from === "") throw ctx.error("INVALID_FLAG_VALUE", "--from requires a value", "--from");
    out.from = from;
  }
  return out;
}

/** parseAdd parses `ADD [--chown] [--chmod] [--link] [--keep-git-dir] [--checksum] [--exclude]… [--unpack] src… dest`. */
export function parseAdd(ctx: InstructionContext): AddInstruction {
  const flags = parseFlags(ctx, {
    chown: "string",
    chmod: "string",
    link: "bool",
    "keep-git-dir": "bool",
    checksum: "string",
    exclude: "strings",
    unpack: "bool",
  });
  const out: AddInstruction = Object.assign(ctx.base("add"), sourcesAndDest(ctx, "ADD", flags), {
    keepGitDir: flags.bool("keep-git-dir") ?? false,
  });
  const checksum = flags.string("checksum");
  if (checksum !== undefined) {
    if (checksum === "") throw ctx.error("INVALID_FLAG_VALUE", "--checksum requires a value", "--checksum");
    if (
      !checksum.includes("$") &&
      !/^(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128}|[0-9a-f]{40}|[0-9a-f]{64})$/.test(
        checksum,
      )
    ) {
      throw ctx.error(
        "INVALID_FLAG_VALUE",
        `invalid checksum ${JSON.stringify(checksum)}: expected a digest (sha256:<64 hex>) or a git commit`,
        "--checksum",
      );
    }
    out.checksum = checksum;
  }
  const unpack = flags.bool("unpack");
  if (unpack !== undefined) out.unpack = unpack;
  return out;
}
