import { CliUsageError } from "../output.js";
import { formatTable } from "./table.js";
import { goJson, Template } from "./template.js";

/**
 * renderList prints rows the way docker's list commands do for `--format`:
 * nothing or `table` gives the default table; `json` one JSON object per
 * line (`{{json .}}`); `table TEMPLATE` a table whose headers come from the
 * fields the template uses; any other TEMPLATE one line per row, no header.
 */
export function renderList<Row extends Record<string, unknown>>(options: {
  format: string | undefined;
  rows: readonly Row[];
  /** defaultTable is the template of the default table, e.g. "{{.Repository}}\t{{.Tag}}". */
  defaultTable: string;
  /** headers maps a field to its column title ("ID" → "IMAGE ID"). */
  headers: Readonly<Record<string, string>>;
  /** jsonRow picks what `--format json` prints (default: the row). */
  jsonRow?: (row: Row) => unknown;
}): string {
  const format = options.format?.trim();
  if (format === "json")
    return options.rows.map((r) => `${goJson(options.jsonRow ? options.jsonRow(r) : r)}\n`).join("");
  let isTable = false;
  let source = options.defaultTable;
  if (format === undefined || format === "" || format === "table") isTable = true;
  else if (format.startsWith("table ")) {
    isTable = true;
    source = format.slice(6);
  } else source = options.format!;
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new CliUsageError(`invalid --format: ${(err as Error).message}`);
  }
  const render = (row: Record<string, unknown>) => {
    try {
      return template.execute(row);
    } catch (err) {
      throw new CliUsageError(`invalid --format: ${(err as Error).message}`);
    }
  };
  if (!isTable) return options.rows.map((r) => `${render(r)}\n`).join("");
  const headerRow: Record<string, string> = {};
  for (const f of template.fields()) headerRow[f] = options.headers[f] ?? f.toUpperCase();
  const lines = [headerRow, ...options.rows].map((r) => render(r).split("\t"));
  return formatTable(lines);
}
