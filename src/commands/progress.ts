// Progress on stderr: a bar redrawn in place on a terminal, plain lines (every 10%) otherwise, so that logs
// and CI output stay readable.

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly label: string;
  private readonly total: number | undefined;
  private lastDraw = 0;
  private lastDecile = -1;

  constructor(stream: ProgressStream, label: string, total: number | undefined) {
    this.stream = stream;
    this.label = label;
    this.total = total && total > 0 ? total : undefined;
  }

  /** done: how far (in the unit of total); detail: shown after the bar, e.g. "120,000 rows". */
  update(done: number, detail: string): void {
    const fraction = this.total ? Math.min(1, done / this.total) : undefined;
    if (this.stream.isTTY) {
      const now = Date.now();
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 24;
      const bar = fraction === undefined ? "" :
        `[${"#".repeat(Math.round(fraction * width)).padEnd(width, ".")}] ${String(Math.floor(fraction * 100)).padStart(3)}%  `;
      const line = `${this.label} ${bar}${detail}`;
      this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 100) - 1)}\x1b[K`);
    } else if (fraction !== undefined) {
      const decile = Math.floor(fraction * 10);
      if (decile > this.lastDecile) {
        this.lastDecile = decile;
        this.stream.write(`${this.label} ${decile * 10}%  ${detail}\n`);
      }
    }
  }

  /** The final state, on a line of its own. */
  finish(detail: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r${this.label} ${detail}\x1b[K\n`);
    } else {
      this.stream.write(`${this.label} ${detail}\n`);
    }
  }

  /** A step without a measurable amount: printed when it starts, and its time when it ends. */
  static async step<T>(stream: ProgressStream, label: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    if (stream.isTTY) stream.write(`${label} ...`);
    const result = await work();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(stream.isTTY ? `\r${label} done in ${seconds} s\x1b[K\n` : `${label} done in ${seconds} s\n`);
    return result;
  }
}

/** 1234567 -> "1,234,567" */
export function count(n: number | bigint | string): string {
  return Number(n).toLocaleString("en-US");
}
