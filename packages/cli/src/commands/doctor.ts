import { checkRunSupport } from "@tsbuild/builder";
import type { Argv, CommandModule } from "yargs";
import { io } from "../output.js";

interface DoctorArgs {
  runtime?: string;
}

const MARK = { ok: "ok", missing: "MISSING", info: "info" } as const;

/**
 * doctorCommand is `tsbuild doctor`: whether RUN steps can work here and
 * how (root or rootless, which snapshotter), each prerequisite with what was
 * found and the exact command that fixes what is missing. Exit 0 when a
 * build with RUN can work, 1 when not.
 */
export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: "doctor",
  describe: "Check what RUN steps need (runc, user namespaces, subuid ranges, overlay) and how to fix it",
  builder: (y: Argv) =>
    y
      .option("runtime", {
        type: "string",
        describe: "OCI runtime binary (default runc from PATH)",
      })
      .example("tsbuild doctor", "check that this user can build images with RUN steps") as Argv<DoctorArgs>,
  handler: async (argv) => {
    const r = await checkRunSupport(argv.runtime ? { runtime: argv.runtime } : {});
    const out: string[] = [
      `RUN steps for ${r.user}: ${r.rootless ? "rootless (user namespace)" : "as root"}`,
      "",
    ];
    const width = Math.max(...r.checks.map((c) => c.name.length));
    for (const c of r.checks) {
      out.push(`  ${MARK[c.status].padEnd(7)} ${c.name.padEnd(width)}  ${c.detail}`);
      if (c.fix && c.status !== "ok") out.push(`  ${" ".repeat(7)} ${" ".repeat(width)}  fix: ${c.fix}`);
    }
    out.push("");
    out.push(
      r.works
        ? `RUN works here: ${r.snapshotter === "copy" ? "a copied rootfs (slower; no overlay mounts)" : r.snapshotter} snapshots, ${r.rootless ? "rootless" : "root"}.`
        : "RUN cannot work here: fix what is MISSING above.",
    );
    io().stdout.write(`${out.join("\n")}\n`);
    if (!r.works) process.exitCode = 1;
  },
};
