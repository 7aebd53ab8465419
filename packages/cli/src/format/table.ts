/**
 * formatTable lays rows out as docker's CLI does with Go's text/tabwriter
 * (minwidth 10, padding 3, spaces): every column but the last is padded to
 * the widest cell plus 3, and to at least 10; the last is never padded.
 * Widths count code points, as tabwriter counts runes.
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return;
      widths[i] = Math.max(widths[i] ?? 0, Math.max(runeCount(cell) + 3, 10));
    });
  }
  return rows
    .map(
      (row) =>
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - runeCount(cell))))
          .join("") + "\n",
    )
    .join("");
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** ellipsis shortens `s` to at most `max` code points, ending with "…" when cut (docker's formatter.Ellipsis). */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, max).join("");
  return `${chars.slice(0, max - 1).join("")}…`;
}
