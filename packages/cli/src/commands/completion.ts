import type { Argv, CommandModule } from "yargs";
import { completionScript, SHELLS } from "../help/completion.js";
import { print } from "../output.js";
import { commands } from "./index.js";

/** completionCommand is `tsbuild completion bash|zsh`: a script made from the command tree as it is. */
export const completionCommand: CommandModule<object, { shell: (typeof SHELLS)[number] }> = {
  command: "completion <shell>",
  describe: "Print the shell completion script for bash or zsh",
  builder: (y: Argv) =>
    y
      .positional("shell", {
        type: "string",
        choices: SHELLS,
        describe: "SHELL (bash or zsh)",
        demandOption: true,
      })
      .example(
        "source <(tsbuild completion bash)",
        "complete tsbuild's commands, flags and image names in bash",
      )
      .example(
        'tsbuild completion zsh > "$fpath[1]/_tsbuild"',
        "install the zsh completion (then start a new shell)",
      ) as Argv<{ shell: (typeof SHELLS)[number] }>,
  handler: async (argv) => {
    print(await completionScript(argv.shell, commands));
  },
};
