import Table from 'cli-table3';
import pc from 'picocolors';

/** stdout carries results (JSON with --json, a table on a terminal); stderr carries everything else. */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  result(value: unknown, human: () => string): void {
    this.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
  }

  /** Rows as a table on a terminal, tab-separated lines otherwise (for `cut`, `awk`). */
  table(value: unknown, head: string[], rows: (string | number | null | undefined)[][]): void {
    this.result(value, () => {
      const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
      if (!this.stdout.isTTY) return [head, ...cells].map((r) => r.join('\t')).join('\n');
      const table = new Table({ head: head.map((h) => pc.bold(h)), style: { head: [], border: [] } });
      table.push(...cells);
      return table.toString();
    });
  }

  /**
   * A wait the user sees: a spinner with the seconds elapsed on a terminal (stderr), one line otherwise.
   * Returns what ends it.
   */
  progress(what: string): () => void {
    if (!this.stderr.isTTY) {
      this.stderr.write(`${what}…\n`);
      return () => undefined;
    }
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    const started = Date.now();
    let i = 0;
    const draw = () => this.stderr.write(`\r${pc.cyan(frames[i++ % frames.length])} ${what}… ${pc.dim(`${Math.floor((Date.now() - started) / 1000)}s`)}`);
    draw();
    const timer = setInterval(draw, 100);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.stderr.write('\r\x1b[2K');
    };
  }

  /** A state word coloured on a terminal (active green, revoked/denied red, expired dim); as it is in a pipe. */
  state(word: string): string {
    if (!this.stdout.isTTY) return word;
    if (word === 'active' || word === 'yes' || word === 'allowed') return pc.green(word);
    if (word === 'revoked' || word === 'denied') return pc.red(word);
    if (word === 'expired' || word === 'rotated' || word === 'no') return pc.dim(word);
    return word;
  }

  info(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  warn(line: string): void {
    this.stderr.write(`${pc.yellow('warning:')} ${line}\n`);
  }

  error(line: string): void {
    this.stderr.write(`${pc.red('error:')} ${line}\n`);
  }
}
