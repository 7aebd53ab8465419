import { readFile, writeFile } from "node:fs/promises";
import { writeBases } from "./bases.js";
import { describeArchive, GoldenError, type ImageDescription, substitute } from "./describe.js";
import { checkExport } from "./export-check.js";
import { serveDir } from "./serve.js";

/**
 * tool is the command line scripts/record-golden.sh runs (compiled with the
 * repo's tsc, since Node 20 cannot run TypeScript):
 *   bases OUTDIR                                 write every base image archive, print "NAME<TAB>FILE" lines
 *   describe ARCHIVE BASE_LAYERS OUT.json [FROM TO] describe a `docker save` tar into OUT.json,
 *                                                 FROM replaced by TO in the config's strings
 *   override-history EXPECTED.json CASE.json      apply case.json's historyOverride {index: created_by}
 *   check-export EXPECTED.json EXPORT.tar         compare the tree with `docker export` of the image (exit 1 on a difference)
 *   serve DIR                                    serve DIR on 127.0.0.1, print the port, run until killed
 */
async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (cmd === "bases" && args.length === 1) {
    for (const [name, file] of await writeBases(args[0]!)) process.stdout.write(`${name}\t${file}\n`);
    return;
  }
  if (cmd === "describe" && (args.length === 3 || args.length === 5)) {
    const baseLayers = Number(args[1]);
    if (!Number.isInteger(baseLayers))
      throw new GoldenError("BAD_CASE", `BASE_LAYERS must be an integer, got ${args[1]}`);
    let d = await describeArchive(args[0]!, { baseLayers });
    if (args.length === 5) d = substitute(d, args[3]!, args[4]!);
    await writeFile(args[2]!, `${JSON.stringify(d, null, 2)}\n`);
    return;
  }
  if (cmd === "override-history" && args.length === 2) {
    const d = JSON.parse(await readFile(args[0]!, "utf8")) as ImageDescription;
    const meta = JSON.parse(await readFile(args[1]!, "utf8")) as { historyOverride?: Record<string, string> };
    for (const [i, createdBy] of Object.entries(meta.historyOverride ?? {})) {
      const h = d.config.history[Number(i)];
      if (!h) throw new GoldenError("BAD_CASE", `historyOverride: no history entry ${i}`);
      h.created_by = createdBy;
    }
    await writeFile(args[0]!, `${JSON.stringify(d, null, 2)}\n`);
    return;
  }
  if (cmd === "check-export" && args.length === 2) {
    const d = JSON.parse(await readFile(args[0]!, "utf8")) as ImageDescription;
    const diffs = await checkExport(d, args[1]!);
    for (const x of diffs) process.stderr.write(`${x.text}\n`);
    if (diffs.length > 0) throw new GoldenError("BAD_CASE", `${diffs.length} differences from docker export`);
    return;
  }
  if (cmd === "serve" && args.length === 1) {
    const { port } = await serveDir(args[0]!);
    process.stdout.write(`${port}\n`);
    return;
  }
  process.stderr.write(
    "usage: tool bases OUTDIR | describe ARCHIVE BASE_LAYERS OUT.json [FROM TO] | override-history EXPECTED CASE | check-export EXPECTED TAR | serve DIR\n",
  );
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`golden: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
