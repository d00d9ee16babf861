/**
 * Progress of long work, on stderr only: a bar on a terminal; elsewhere one line per phase or about every
 * second and at 100 % (`tinypipe eval: 40 % (q4 g32)`) unless `--json`, whose stdout stays the one JSON document.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { CliContext } from './context.js';

export interface Progress {
  /** `done` of `total` units; `detail` says what is being done (shown after the percentage). */
  update(done: number, total: number, detail?: string): void;
  /** A step without a measure ("flashing 2 boards"): a line, or the bar's label on a terminal. */
  phase(detail: string): void;
  /** Ends the bar (call before printing anything else on a terminal). */
  stop(): void;
}

const NONE: Progress = { update() {}, phase() {}, stop() {} };

/**
 * @param task the command, e.g. `eval`
 * @param options.json `--json` was given: bars on a terminal only, no lines
 * @param options.everyMs least time between two lines of the same phase (default 1000)
 */
export function createProgress(
  ctx: CliContext,
  task: string,
  options: { json?: boolean | undefined; everyMs?: number } = {},
): Progress {
  if (ctx.stderr.isTTY === true) {
    let bar: SingleBar | undefined;
    let label = '';
    const draw = (done: number, total: number) => {
      if (!bar) {
        bar = new SingleBar(
          {
            format: `${task} |{bar}| {percentage}% {detail}`,
            stream: ctx.stderr as unknown as NodeJS.WritableStream,
            hideCursor: true,
            clearOnComplete: true,
          },
          Presets.shades_classic,
        );
        bar.start(total, done, { detail: label });
      } else {
        bar.setTotal(total);
        bar.update(done, { detail: label });
      }
    };
    return {
      update(done, total, detail) {
        if (detail !== undefined) label = detail;
        draw(done, total);
      },
      phase(detail) {
        label = detail;
        if (bar) bar.update({ detail });
        else ctx.stderr.write(`${task}: ${detail}\n`);
      },
      stop() {
        bar?.stop();
        bar = undefined;
      },
    };
  }
  if (options.json) return NONE;
  const everyMs = options.everyMs ?? 1000;
  let last = Number.NEGATIVE_INFINITY;
  return {
    update(done, total, detail) {
      const now = performance.now();
      if (now - last < everyMs && done < total) return;
      last = now;
      const percent = total > 0 ? Math.floor((100 * done) / total) : 0;
      ctx.stderr.write(`tinypipe ${task}: ${percent} %${detail ? ` (${detail})` : ''}\n`);
    },
    phase(detail) {
      last = Number.NEGATIVE_INFINITY; // the new phase's first update prints
      ctx.stderr.write(`tinypipe ${task}: ${detail}\n`);
    },
    stop() {},
  };
}
