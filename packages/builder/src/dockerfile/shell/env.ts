/**
 * EnvGetter is what word expansion reads variables from: a stage's ENV and
 * ARG values in BuildKit's order of precedence. `get` returns undefined for an
 * unset name, which is different from a name set to "".
 */
export interface EnvGetter {
  get(name: string): string | undefined;
  keys(): readonly string[];
}

/**
 * envsFromSlice builds an EnvGetter from `NAME=value` entries like a process
 * environment: each entry is split at its first `=`, an entry without `=`
 * sets the name to "", and a later duplicate wins.
 */
export function envsFromSlice(entries: readonly string[]): EnvGetter {
  const map = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq < 0) map.set(entry, "");
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return envsFromMap(map);
}

/** envsFromMap wraps a map or a plain record as an EnvGetter (names are case-sensitive, as on Linux). */
export function envsFromMap(
  values: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): EnvGetter {
  if (values instanceof Map) {
    const map = values as ReadonlyMap<string, string>;
    return { get: (name) => map.get(name), keys: () => [...map.keys()] };
  }
  const record = values as Readonly<Record<string, string>>;
  return {
    get: (name) => (Object.hasOwn(record, name) ? record[name] : undefined),
    keys: () => Object.keys(record),
  };
}
