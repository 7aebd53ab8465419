import { writeFile } from "node:fs/promises";
import { writeBases } from "./bases.js";
import { describeArchive, GoldenError } from "./describe.js";

/**
 * tool is the command line scripts/record-golden.sh runs (compiled with the
 * repo's tsc, since Node 20 cannot run TypeScript):
 *   bases OUTDIR                                 write every base image archive, print "NAME<TAB>FILE" lines
 *   describe ARCHIVE BASE_LAYERS OUT.json [NAME] describe a `docker save` tar into OUT.json
 */
async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (cmd === "bases" && args.length === 1) {
    for (const [name, file] of await writeBases(args[0]!)) process.stdout.write(`${name}\t${file}\n`);
    return;
  }
  if (cmd === "describe" && (args.length === 3 || args.length === 4)) {
    const baseLayers = Number(args[1]);
    if (!Number.isInteger(baseLayers))
      throw new GoldenError("BAD_CASE", `BASE_LAYERS must be an integer, got ${args[1]}`);
    const d = await describeArchive(args[0]!, { baseLayers, ...(args[3] ? { name: args[3] } : {}) });
    await writeFile(args[2]!, `${JSON.stringify(d, null, 2)}\n`);
    return;
  }
  process.stderr.write("usage: tool bases OUTDIR | tool describe ARCHIVE BASE_LAYERS OUT.json [NAME]\n");
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`golden: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
