import { describe, expect, it } from "vitest";
import { failure } from "../../testing/failure.js";

describe("instruction errors carry file:line:column and the line", () => {
  const errors: [string, string, string, number, number][] = [
    // text, code, message fragment, line, column
    [
      "FROM a\nCOPY --form=x a b\n",
      "UNKNOWN_FLAG",
      "unknown flag: form for COPY (did you mean --from?)",
      2,
      6,
    ],
    ["FROM a\nRUN --network=bridge x\n", "INVALID_FLAG_VALUE", 'unsupported network mode "bridge"', 2, 5],
    ["FROM a\nRUN --security=root x\n", "INVALID_FLAG_VALUE", 'unsupported security mode "root"', 2, 5],
    [
      "FROM a\nRUN --network=host --network=none x\n",
      "DUPLICATE_FLAG",
      "duplicate flag specified: network",
      2,
      5,
    ],
    [
      "FROM a\nCOPY --link=maybe a b\n",
      "INVALID_FLAG_VALUE",
      "expecting boolean value for flag link, not: maybe",
      2,
      6,
    ],
    ["FROM a\nCOPY --from a b\n", "INVALID_FLAG_VALUE", "missing a value on flag: from", 2, 6],
    ["FROM a\nCOPY --link= a b\n", "INVALID_FLAG_VALUE", "missing a value on flag: link", 2, 6],
    ["FROM a\nCOPY --chmod=999 a b\n", "INVALID_FLAG_VALUE", "invalid chmod parameter", 2, 6],
    ["FROM a\nADD --checksum=md5:x a b\n", "INVALID_FLAG_VALUE", "invalid checksum", 2, 5],
    ["FROM a\nADD --from=x a b\n", "UNKNOWN_FLAG", "unknown flag: from for ADD", 2, 5],
    ["FROM a\nCMD --doit x\n", "UNKNOWN_FLAG", "CMD takes no flags", 2, 5],
    ["FROM a\nFROBNICATE x\n", "UNKNOWN_INSTRUCTION", "unknown instruction: FROBNICATE", 2, 1],
    [
      "FROM a\n  WROKDIR /x\n",
      "UNKNOWN_INSTRUCTION",
      "unknown instruction: WROKDIR (did you mean WORKDIR?)",
      2,
      3,
    ],
    ["FROM a b\n", "INVALID_ARGUMENTS", "FROM requires either one or three arguments", 1, 1],
    ["FROM a AS 1x\n", "INVALID_ARGUMENTS", 'invalid name for build stage: "1x"', 1, 11],
    ["FROM a FOR b\n", "INVALID_ARGUMENTS", 'expects "AS"', 1, 8],
    ["FROM --platform= a\n", "INVALID_FLAG_VALUE", "--platform requires a value", 1, 6],
    [
      "FROM a\nCOPY a\n",
      "INVALID_ARGUMENTS",
      "COPY requires at least two arguments, but only one was provided",
      2,
      6,
    ],
    ["FROM a\nADD\n", "INVALID_ARGUMENTS", "ADD requires at least two arguments", 2, 1],
    [
      "FROM a\nCOPY <<EOF <<EOF2\nx\nEOF\ny\nEOF2\n",
      "INVALID_ARGUMENTS",
      "COPY cannot accept a heredoc as a destination",
      2,
      12,
    ],
    ["FROM a\nUSER\n", "INVALID_ARGUMENTS", "USER requires exactly one argument", 2, 1],
    ["FROM a\nEXPOSE\n", "INVALID_ARGUMENTS", "EXPOSE requires at least one argument", 2, 1],
    ["FROM a\nVOLUME\n", "INVALID_ARGUMENTS", "VOLUME requires at least one argument", 2, 1],
    ['FROM a\nVOLUME ["/a", ""]\n', "INVALID_ARGUMENTS", "VOLUME specified can not be an empty string", 2, 1],
    ["FROM a\nARG\n", "INVALID_ARGUMENTS", "ARG requires at least one argument", 2, 1],
    ["FROM a\nARG =x\n", "INVALID_ARGUMENTS", "ARG names can not be blank", 2, 5],
    ["FROM a\nENV\n", "INVALID_ARGUMENTS", "ENV requires at least one argument", 2, 1],
    ["FROM a\nENV =x\n", "INVALID_ARGUMENTS", "ENV names can not be blank", 2, 1],
    ["FROM a\nLABEL\n", "INVALID_ARGUMENTS", "LABEL requires at least one argument", 2, 1],
    ["FROM a\nENV a=b c\n", "INVALID_ARGUMENTS", `Syntax error - can't find = in "c"`, 2, 9],
    ["FROM a\nENV onlykey\n", "INVALID_ARGUMENTS", "ENV must have two arguments", 2, 1],
    [
      "FROM a\nSHELL /bin/sh -c\n",
      "INVALID_ARGUMENTS",
      "SHELL requires the arguments to be in JSON form",
      2,
      7,
    ],
    ["FROM a\nSHELL []\n", "INVALID_ARGUMENTS", "SHELL requires at least one argument", 2, 1],
    ["FROM a\nRUN\n", "INVALID_ARGUMENTS", "RUN requires at least one argument", 2, 1],
    ["FROM a\nONBUILD\n", "INVALID_ARGUMENTS", "ONBUILD requires at least one argument", 2, 1],
    [
      "FROM a\nONBUILD ONBUILD RUN x\n",
      "INVALID_ONBUILD",
      "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
      2,
      1,
    ],
    ["FROM a\nONBUILD FROM b\n", "INVALID_ONBUILD", "FROM isn't allowed as an ONBUILD trigger", 2, 9],
    [
      "FROM a\nONBUILD MAINTAINER me\n",
      "INVALID_ONBUILD",
      "MAINTAINER isn't allowed as an ONBUILD trigger",
      2,
      9,
    ],
    ["FROM a\nONBUILD COPY --nope a b\n", "UNKNOWN_FLAG", "unknown flag: nope for COPY", 2, 14],
    ["FROM a\nHEALTHCHECK\n", "INVALID_ARGUMENTS", "HEALTHCHECK requires at least one argument", 2, 1],
    ["FROM a\nHEALTHCHECK NONE x\n", "INVALID_ARGUMENTS", "HEALTHCHECK NONE takes no arguments", 2, 18],
    [
      "FROM a\nHEALTHCHECK CONNECT x\n",
      "INVALID_ARGUMENTS",
      'Unknown type "CONNECT" in HEALTHCHECK (try CMD)',
      2,
      13,
    ],
    ["FROM a\nHEALTHCHECK CMD\n", "INVALID_ARGUMENTS", "Missing command after HEALTHCHECK CMD", 2, 13],
    [
      "FROM a\nHEALTHCHECK --interval=10 CMD x\n",
      "INVALID_FLAG_VALUE",
      'time: missing unit in duration "10"',
      2,
      13,
    ],
    [
      "FROM a\nHEALTHCHECK --interval=5x CMD x\n",
      "INVALID_FLAG_VALUE",
      'time: unknown unit "x" in duration "5x"',
      2,
      13,
    ],
    [
      "FROM a\nHEALTHCHECK --retries=99999999999 CMD x\n",
      "INVALID_FLAG_VALUE",
      'strconv.ParseInt: parsing "99999999999": value out of range',
      2,
      13,
    ],
    [
      "FROM a\nHEALTHCHECK --timeout=10us CMD x\n",
      "INVALID_FLAG_VALUE",
      'Interval "timeout" cannot be less than 1ms',
      2,
      13,
    ],
    [
      "FROM a\nHEALTHCHECK --start-period=-1s CMD x\n",
      "INVALID_FLAG_VALUE",
      "cannot be less than 1ms",
      2,
      13,
    ],
    [
      "FROM a\nHEALTHCHECK --retries=-1 CMD x\n",
      "INVALID_FLAG_VALUE",
      "--retries cannot be negative (-1)",
      2,
      13,
    ],
    [
      "FROM a\nHEALTHCHECK --retries=x CMD x\n",
      "INVALID_FLAG_VALUE",
      'strconv.ParseInt: parsing "x": invalid syntax',
      2,
      13,
    ],
    ["FROM a\nHEALTHCHECK --bogus=1 CMD x\n", "UNKNOWN_FLAG", "unknown flag: bogus for HEALTHCHECK", 2, 13],
    [
      "FROM a\nRUN --mount=type=cache,target=/a \\\n    --netwrk=none true\n",
      "UNKNOWN_FLAG",
      "unknown flag: netwrk for RUN (did you mean --network?)",
      3,
      5,
    ],
  ];
  it.each(errors)("%j", (text, code, message, line, column) => {
    const err = failure(text);
    expect(err.code).toBe(code);
    expect(err.detail).toContain(message);
    expect([err.line, err.column]).toEqual([line, column]);
    expect(err.message.startsWith(`Dockerfile:${line}:${column}: `)).toBe(true);
    const formatted = err.format().split("\n");
    expect(formatted[1]).toContain(text.split("\n")[line - 1]!.trim());
    expect(formatted[2]!.indexOf("^") - formatted[2]!.indexOf("|") - 2).toBe(column - 1);
  });
});
