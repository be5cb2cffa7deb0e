import { SingleBar, Presets } from 'cli-progress';

/** Progress of a long `cairn-manage` command: a bar on a terminal, plain lines otherwise. */
export interface Progress {
  /** Moves to `value` (of the total); `step` names what is being done now. */
  update(value: number, step?: string): void;
  increment(by?: number, step?: string): void;
  /** Ends the bar (or prints the last line). */
  stop(): void;
}

export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  /** `bytes`: shown as MiB; `steps`: as n/total. */
  readonly unit: 'bytes' | 'steps';
  /** stderr unless given: stdout stays the command's result (`--json`). */
  readonly stream?: NodeJS.WriteStream;
  /** Whether to draw a bar; the stream's own isTTY unless given. */
  readonly tty?: boolean;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/**
 * cli-progress's bar when the stream is a terminal; else one plain line per
 * tenth of the way (bytes) or per step (steps), so logs and pipes stay readable.
 */
export function progress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const total = Math.max(0, opts.total);
  const shown = (v: number) => (opts.unit === 'bytes' ? `${mib(v)} of ${mib(total)}` : `${v}/${total}`);
  let value = 0;
  let step = '';
  if (opts.tty ?? stream.isTTY) {
    const bar = new SingleBar(
      {
        stream,
        format: `${opts.label} [{bar}] {percentage}% | {shown} {step}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
        fps: 10,
      },
      Presets.shades_classic,
    );
    bar.start(total || 1, 0, { shown: shown(0), step: '' });
    return {
      update(v, s) {
        value = v;
        if (s !== undefined) step = s;
        bar.update(Math.min(v, total || 1), { shown: shown(v), step });
      },
      increment(by = 1, s) {
        this.update(value + by, s);
      },
      stop() {
        bar.stop();
      },
    };
  }
  let lastTenth = -1;
  const line = (force: boolean) => {
    const pct = total ? Math.floor((100 * value) / total) : 100;
    const tenth = Math.floor(pct / 10);
    if (!force && opts.unit === 'bytes' && tenth === lastTenth) return;
    lastTenth = tenth;
    stream.write(`${opts.label}: ${pct}% (${shown(value)})${step ? ` ${step}` : ''}\n`);
  };
  return {
    update(v, s) {
      const stepChanged = s !== undefined && s !== step;
      value = v;
      if (s !== undefined) step = s;
      line(opts.unit === 'steps' || stepChanged);
    },
    increment(by = 1, s) {
      this.update(value + by, s);
    },
    stop() {
      if (opts.unit === 'bytes' && lastTenth < 10) line(true);
    },
  };
}
