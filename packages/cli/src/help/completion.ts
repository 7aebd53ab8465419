import { GLOBAL_OPTIONS } from "../global-options.js";
import { isGroup, loaded, metavarOf, type Node, subcommandsOf, walkTree } from "./help.js";
import { type AnyCommand, type CommandShape, describeOf, namesOf, shapeOf, specOf } from "./shape.js";

/**
 * CompletionEntry is what completion knows of one way to spell a command
 * (`image ls`, `image list`, `images`): its subcommands, its flags, which
 * flags take a value (and their choices), and what each argument is.
 */
interface CompletionEntry {
  path: string;
  subcommands: string[];
  /** described: `name:summary` of each subcommand, for zsh's _describe. */
  described: string[];
  flags: string[];
  valueFlags: string[];
  choices: [flag: string, values: string[]][];
  /** args: `image` (a name from the store), `file` or `values:a,b`, `...` when it repeats. */
  args: string[];
}

/**
 * IMAGE_ARG tells an argument that names an image in the store by its
 * docker-style name: IMAGE, SOURCE_IMAGE[:TAG], push's NAME[:TAG]. (pull's
 * NAME[:TAG|@DIGEST] names one in a registry.)
 */
const IMAGE_ARG = /IMAGE|^NAME\[:TAG\]$/;

/** completionEntries reads the whole command tree (importing every module) into what the scripts need. */
export async function completionEntries(top: readonly AnyCommand[]): Promise<CompletionEntry[]> {
  const nodes = await walkTree(top);
  const rootSubs = top.flatMap(namesOf);
  const entries: CompletionEntry[] = [
    {
      path: "",
      subcommands: rootSubs,
      described: describedOf(top),
      flags: [],
      valueFlags: [],
      choices: [],
      args: [],
    },
  ];
  for (const node of nodes) {
    const command = node.command as AnyCommand;
    const shape = shapeOf(await loaded(command));
    const subs = isGroup(command) ? await subcommandsOf(node, top) : [];
    const entry = {
      subcommands: subs.flatMap(namesOf),
      described: describedOf(subs),
      ...flagsOf(shape),
      args: isGroup(command) ? [] : argsOf(command, shape),
    };
    for (const path of spellings(node, nodes, top)) entries.push({ path, ...entry });
  }
  return entries;
}

function describedOf(commands: readonly AnyCommand[]): string[] {
  return commands.flatMap((c) => namesOf(c).map((n) => `${n}:${describeOf(c)}`));
}

/** spellings are a node's path with every alias of each of its words (`image ls`, `image list`). */
function spellings(node: Node, nodes: readonly Node[], top: readonly AnyCommand[]): string[] {
  let paths = [""];
  for (let i = 0; i < node.path.length; i++) {
    const prefix = node.path.slice(0, i + 1).join(" ");
    const c =
      i === 0
        ? top.find((t) => namesOf(t)[0] === node.path[0])
        : nodes.find((n) => n.path.join(" ") === prefix)?.command;
    const names = c ? namesOf(c) : [node.path[i] ?? ""];
    paths = paths.flatMap((p) => names.map((n) => (p === "" ? n : `${p} ${n}`)));
  }
  return paths;
}

function flagsOf(shape: CommandShape): Pick<CompletionEntry, "flags" | "valueFlags" | "choices"> {
  const flags: string[] = [];
  const valueFlags: string[] = [];
  const choices: [string, string[]][] = [];
  for (const [name, o] of shape.options) {
    if (o.hidden) continue;
    const spelled = [
      `--${name}`,
      ...[o.alias ?? []].flat().map((a) => (a.length === 1 ? `-${a}` : `--${a}`)),
    ];
    flags.push(...spelled);
    if (o.type === "boolean" || o.boolean || o.count) continue;
    valueFlags.push(...spelled);
    if (o.choices !== undefined) for (const f of spelled) choices.push([f, [o.choices].flat().map(String)]);
  }
  return { flags: [...flags, "--help"], valueFlags, choices };
}

function argsOf(command: AnyCommand, shape: CommandShape): string[] {
  return specOf(command)
    .split(" ")
    .slice(1)
    .flatMap((a) => {
      const m = /^[<[]([^.>\]]+)(\.\.)?[>\]]$/.exec(a);
      if (!m) return [];
      const choices = shape.positionals.get(m[1] ?? "")?.choices;
      const kind =
        choices !== undefined
          ? `values:${[choices].flat().join(",")}`
          : IMAGE_ARG.test(metavarOf(m[1] ?? "", shape))
            ? "image"
            : "file";
      return [m[2] ? `${kind}...` : kind];
    });
}

/** GLOBAL_FLAGS are offered everywhere; GLOBAL_VALUE_FLAGS take the next word. */
function globalFlags(): { flags: string[]; valueFlags: string[] } {
  const flags = Object.keys(GLOBAL_OPTIONS).map((n) => `--${n}`);
  return { flags, valueFlags: flags.filter((f) => GLOBAL_OPTIONS[f.slice(2)]?.type !== "boolean") };
}

/** q quotes a word for the shell (single quotes); the words here never hold one. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** caseTable is a shell function printing, one per line, what `pick` gives for the key in $1. */
function caseTable(name: string, rows: [key: string, values: string[]][]): string {
  const arms = rows
    .filter(([, values]) => values.length > 0)
    .map(([key, values]) => `    ${q(key)}) printf '%s\\n' ${values.map(q).join(" ")} ;;`);
  return `${name}() {\n  case "$1" in\n${arms.join("\n")}\n  esac\n}\n`;
}

/**
 * coreScript is the part both shells share: the data, as case tables, and
 * __tsbuild_candidates, written in the shell both bash and zsh run, which
 * reads the words typed so far and prints the candidates one per line, or
 * __files__ when a file name fits. Image names come from the store that
 * `--root` on the line names (else the default), through `tsbuild image ls`.
 */
function coreScript(entries: readonly CompletionEntry[]): string {
  const globals = globalFlags();
  return [
    caseTable(
      "__tsbuild_subcommands",
      entries.map((e) => [e.path, e.subcommands]),
    ),
    caseTable(
      "__tsbuild_described",
      entries.map((e) => [e.path, e.described]),
    ),
    caseTable(
      "__tsbuild_flags",
      entries.map((e) => [e.path, e.path === "" ? ["-v", "--version", "--help"] : e.flags]),
    ),
    caseTable(
      "__tsbuild_value_flags",
      entries.map((e) => [e.path, e.valueFlags]),
    ),
    caseTable(
      "__tsbuild_choices",
      entries.flatMap((e) =>
        e.choices.map(([flag, values]): [string, string[]] => [`${e.path} ${flag}`, values]),
      ),
    ),
    caseTable(
      "__tsbuild_args",
      entries.map((e) => [e.path, e.args]),
    ),
    `__tsbuild_global_flags() {\n  printf '%s\\n' ${globals.flags.map(q).join(" ")}\n}\n`,
    `__tsbuild_global_value_flags() {\n  printf '%s\\n' ${globals.valueFlags.map(q).join(" ")}\n}\n`,
    CORE,
  ].join("\n");
}

const CORE = `# __tsbuild_in LIST WORD: is WORD one of LIST's lines?
__tsbuild_in() {
  case "
$1
" in *"
$2
"*) return 0 ;; esac
  return 1
}

# __tsbuild_candidates CWORD WORD0 WORD1 ...: what may replace word number CWORD (0: the command), one a
# line; __files__ for a file name; subcommands after a line "__commands__ PATH".
__tsbuild_candidates() {
  local cword=$1 cmdpath="" skip=0 i=0 nargs=0 w cur="" prev="" root="" rootnext=0 dashdash=0
  shift
  for w in "$@"; do
    if [ "$i" -eq "$cword" ]; then cur=$w; break; fi
    if [ "$i" -gt 0 ]; then
      if [ "$rootnext" -eq 1 ]; then root=$w; rootnext=0; fi
      if [ "$skip" -eq 1 ]; then
        skip=0
      elif [ "$dashdash" -eq 1 ]; then
        nargs=$((nargs + 1))
      else
        case "$w" in
          --) dashdash=1 ;;
          --root=*) root=\${w#--root=} ;;
          -*=*) ;;
          -?*)
            if __tsbuild_in "$(__tsbuild_value_flags "$cmdpath"; __tsbuild_global_value_flags)" "$w"; then skip=1; fi
            if [ "$w" = "--root" ]; then rootnext=1; fi
            ;;
          *)
            if [ "$nargs" -eq 0 ] && __tsbuild_in "$(__tsbuild_subcommands "$cmdpath")" "$w"; then
              cmdpath=\${cmdpath:+$cmdpath }$w
            else
              nargs=$((nargs + 1))
            fi
            ;;
        esac
      fi
    fi
    prev=$w
    i=$((i + 1))
  done
  if [ "$skip" -eq 1 ]; then
    local choices
    choices=$(__tsbuild_choices "$cmdpath $prev")
    if [ -n "$choices" ]; then printf '%s\\n' "$choices"; else echo __files__; fi
    return
  fi
  case "$cur" in
    -*) if [ "$dashdash" -eq 0 ]; then __tsbuild_flags "$cmdpath"; __tsbuild_global_flags; return; fi ;;
  esac
  local subs
  subs=$(__tsbuild_subcommands "$cmdpath")
  if [ -n "$subs" ] && [ "$nargs" -eq 0 ]; then
    # The first line tells zsh where to find the summaries of these commands.
    echo "__commands__ $cmdpath"
    printf '%s\\n' "$subs"
    return
  fi
  local kind="" k n=0
  while IFS= read -r k; do
    [ -z "$k" ] && continue
    kind=$k
    if [ "$n" -eq "$nargs" ]; then break; fi
    case "$k" in *...) ;; *) kind="" ;; esac
    n=$((n + 1))
  done <<EOF
$(__tsbuild_args "$cmdpath")
EOF
  case "$kind" in
    image*) __tsbuild_images "$1" "$root" ;;
    values:*) printf '%s\n' "\${kind#values:}" | tr ',' '\n' ;;
    file*) echo __files__ ;;
  esac
}

# __tsbuild_images TSBUILD ROOT: the names in the store (none for an untagged image).
__tsbuild_images() {
  if [ -n "$2" ]; then
    "$1" --root "$2" image ls --format '{{.Repository}}:{{.Tag}}' </dev/null 2>/dev/null | grep -v '<none>'
  else
    "$1" image ls --format '{{.Repository}}:{{.Tag}}' </dev/null 2>/dev/null | grep -v '<none>'
  fi
}
`;

const BASH = `
_tsbuild() {
  local cur line words cword out
  # Words as typed (bash splits COMP_WORDS at ':', which image names hold).
  if [ -n "\${COMP_LINE-}" ]; then
    line=\${COMP_LINE:0:\${COMP_POINT:-\${#COMP_LINE}}}
    read -r -a words <<< "$line"
    if [[ $line == *[[:space:]] ]]; then words+=(""); fi
    cword=$((\${#words[@]} - 1))
  else
    words=("\${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi
  cur=\${words[cword]}
  out=$(__tsbuild_candidates "$cword" "\${words[@]}")
  if [[ $out == __commands__* ]]; then out=\${out#*$'\\n'}; fi
  if [ "$out" = __files__ ]; then
    COMPREPLY=()
    compopt -o default 2>/dev/null
    return 0
  fi
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  # bash replaces only what follows the last ':' of the word.
  if [[ $cur == *:* && \${COMP_WORDBREAKS-} == *:* ]]; then
    local prefix=\${cur%"\${cur##*:}"} i
    for i in "\${!COMPREPLY[@]}"; do COMPREPLY[i]=\${COMPREPLY[i]#"$prefix"}; done
  fi
  return 0
}
complete -F _tsbuild tsbuild
`;

const ZSH = `
_tsbuild() {
  local out
  out=$(__tsbuild_candidates $((CURRENT - 1)) "\${words[@]}")
  if [[ $out == __files__ ]]; then
    _files
    return
  fi
  local -a candidates
  candidates=(\${(f)out})
  if [[ \${candidates[1]} == __commands__* ]]; then
    local -a described
    described=(\${(f)"$(__tsbuild_described "\${candidates[1]#__commands__ }")"})
    _describe -t commands 'tsbuild command' described
    return
  fi
  compadd -- "\${candidates[@]}"
}

if [ "$funcstack[1]" = "_tsbuild" ]; then
  _tsbuild "$@"
elif (( $+functions[compdef] )); then
  compdef _tsbuild tsbuild
fi
`;

/** SHELLS are the shells `tsbuild completion` writes a script for. */
export const SHELLS = ["bash", "zsh"] as const;

/** completionScript is the script that teaches `shell` to complete tsbuild's commands, flags and image names. */
export async function completionScript(
  shell: (typeof SHELLS)[number],
  top: readonly AnyCommand[],
): Promise<string> {
  const head =
    shell === "zsh"
      ? '#compdef tsbuild\n# zsh completion for tsbuild: tsbuild completion zsh > "$fpath[1]/_tsbuild"\n'
      : "# bash completion for tsbuild: source <(tsbuild completion bash)\n";
  return `${head}\n${coreScript(await completionEntries(top))}${shell === "zsh" ? ZSH : BASH}`;
}
