/**
 * humanSize formats a byte count the way docker does (go-units
 * HumanSizeWithPrecision): decimal (1000-based) units B, kB, MB, GB…, and
 * `precision` significant digits in Go's %g style. `docker image ls` and
 * `docker history` use 3 digits ("7.23MB", "188MB"); "Total reclaimed space"
 * uses HumanSize, which is 4.
 */
export function humanSize(bytes: number, precision = 3): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${units[i]}`;
}

/** formatG is Go's fmt "%.*g": shortest of %e/%f at `precision` significant digits, trailing zeros removed. */
export function formatG(x: number, precision: number): string {
  if (x === 0) return "0";
  const s = x.toExponential(precision - 1);
  // Rounding may carry into a new digit (999.5 → 1.00e+3): read the exponent back from the string.
  const [mant, e] = s.split("e") as [string, string];
  const realExp = Number(e);
  if (realExp < -4 || realExp >= precision) {
    const m = mant.includes(".") ? mant.replace(/\.?0+$/, "") : mant;
    const sign = realExp < 0 ? "-" : "+";
    return `${m}e${sign}${String(Math.abs(realExp)).padStart(2, "0")}`;
  }
  const f = x.toFixed(Math.max(0, precision - 1 - realExp));
  return f.includes(".") ? f.replace(/\.?0+$/, "") : f;
}
