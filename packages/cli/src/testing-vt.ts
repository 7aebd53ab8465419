/**
 * Screen is a small VT100 interpreter for tests: it replays what a program wrote to a terminal and
 * gives the text left on the screen. It knows what a progress view uses (CR, LF, backspace, cursor up
 * and down, column, erase in line and below); colors and modes (SGR, `?25l`) are read and ignored.
 * Rows grow downwards without a limit, so a long final paint is kept whole, as in a scrollback.
 */
export class Screen {
  readonly rows: string[][] = [[]];
  row = 0;
  col = 0;
  /** sgr counts the color sequences seen (NO_COLOR must leave none). */
  sgr = 0;

  /** onlcr: a line feed also returns to the first column, as a terminal's line discipline makes it. */
  constructor(
    readonly width = 80,
    readonly onlcr = true,
  ) {}

  write(data: string | Buffer): this {
    const s = typeof data === "string" ? data : data.toString("utf8");
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c === "\x1b") {
        i = this.#escape(s, i);
        continue;
      }
      if (c === "\r") this.col = 0;
      else if (c === "\n") {
        this.#down(1);
        if (this.onlcr) this.col = 0;
      } else if (c === "\b") this.col = Math.max(0, this.col - 1);
      else if (c >= " ") {
        if (this.col >= this.width) {
          this.#down(1);
          this.col = 0;
        }
        const line = this.#line();
        while (line.length < this.col) line.push(" ");
        line[this.col++] = c;
      }
    }
    return this;
  }

  /** text is the screen's content, each row's trailing spaces and the trailing empty rows dropped. */
  text(): string {
    const lines = this.rows.map((r) => r.join("").trimEnd());
    while (lines.length > 0 && lines.at(-1) === "") lines.pop();
    return lines.join("\n");
  }

  #line(): string[] {
    while (this.rows.length <= this.row) this.rows.push([]);
    return this.rows[this.row]!;
  }

  #down(n: number): void {
    this.row += n;
    this.#line();
  }

  /** #escape applies the sequence at `s[i]` and returns the index of its last character. */
  #escape(s: string, i: number): number {
    if (s[i + 1] !== "[") return i + 1; // a two-character escape: ignored
    let j = i + 2;
    while (j < s.length && !/[@-~]/.test(s[j]!)) j++;
    const params = s.slice(i + 2, j);
    const final = s[j];
    const n = Number.parseInt(params.replace(/^\?/, ""), 10);
    const count = Number.isNaN(n) || n === 0 ? 1 : n;
    const line = this.#line();
    switch (final) {
      case "A":
        this.row = Math.max(0, this.row - count);
        break;
      case "B":
        this.#down(count);
        break;
      case "C":
        this.col += count;
        break;
      case "D":
        this.col = Math.max(0, this.col - count);
        break;
      case "G":
        this.col = count - 1;
        break;
      case "K":
        if (params === "" || params === "0") line.length = Math.min(line.length, this.col);
        else if (params === "1") for (let k = 0; k < Math.min(this.col + 1, line.length); k++) line[k] = " ";
        else if (params === "2") line.length = 0;
        break;
      case "J":
        if (params === "" || params === "0") {
          line.length = Math.min(line.length, this.col);
          this.rows.length = this.row + 1;
        }
        break;
      case "m":
        this.sgr++;
        break;
      default:
        break; // modes (h, l) and anything else a view has no business sending
    }
    return j;
  }
}
