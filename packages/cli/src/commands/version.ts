import { hostPlatform } from "@tsbuild/oci";
import type { Argv, CommandModule } from "yargs";
import { goJson, Template } from "../format/template.js";
import { CliUsageError, print } from "../output.js";
import { BUILT, GIT_COMMIT, VERSION } from "../version.js";

/** VersionInfo is what `tsbuild version` reports, with docker's field names (NodeVersion for GoVersion). */
export interface VersionInfo {
  Client: {
    Version: string;
    NodeVersion: string;
    GitCommit: string;
    BuildTime: string;
    Os: string;
    Arch: string;
  };
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** ansic is Go's time.ANSIC layout (`Thu Dec  3 18:57:38 2026`) in UTC, as docker prints Built. */
export function ansic(d: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const day = String(d.getUTCDate()).padStart(2, " ");
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${day} ${time} ${d.getUTCFullYear()}`;
}

/** versionInfo describes this tsbuild: its version, the Node.js running it, the commit it was built from. */
export function versionInfo(): VersionInfo {
  const platform = hostPlatform();
  const built = BUILT === "" ? undefined : new Date(BUILT);
  return {
    Client: {
      Version: VERSION,
      NodeVersion: process.version,
      GitCommit: GIT_COMMIT,
      BuildTime: built && !Number.isNaN(built.getTime()) ? ansic(built) : "unknown",
      Os: platform.os,
      Arch: platform.variant ? `${platform.architecture}/${platform.variant}` : platform.architecture,
    },
  };
}

/**
 * versionText is docker's client section, its labels in a column of twenty
 * (docker's tabwriter); tsbuild has no daemon, so there is no server section.
 */
export function versionText(info: VersionInfo): string {
  const c = info.Client;
  const rows: [string, string][] = [
    ["Version:", c.Version],
    ["Node.js version:", c.NodeVersion],
    ["Git commit:", c.GitCommit],
    ["Built:", c.BuildTime],
    ["OS/Arch:", `${c.Os}/${c.Arch}`],
  ];
  const width = Math.max(20, ...rows.map(([k]) => k.length + 2));
  return `Client:\n${rows.map(([k, v]) => ` ${k}`.padEnd(width) + v).join("\n")}\n`;
}

/** versionCommand is `tsbuild version`, docker's. */
export const versionCommand: CommandModule<object, { format?: string }> = {
  command: "version",
  describe: "Show the tsbuild version information",
  builder: (y: Argv) =>
    y
      .option("format", {
        alias: "f",
        type: "string",
        describe: "Format output: json, or a Go template (e.g. '{{.Client.Version}}')",
      })
      .example("tsbuild version --format '{{.Client.GitCommit}}'", "print the commit tsbuild was built from"),
  handler: (argv) => {
    const info = versionInfo();
    if (argv.format === undefined || argv.format === "") return print(versionText(info));
    if (argv.format === "json") return print(`${goJson(info)}\n`);
    let template: Template;
    try {
      template = new Template(argv.format);
    } catch (err) {
      throw new CliUsageError(`template parsing error: ${err instanceof Error ? err.message : String(err)}`);
    }
    print(`${template.execute(info)}\n`);
  },
};
