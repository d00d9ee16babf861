#!/usr/bin/env node
/**
 * The process around `runCli`: the real streams, and the one cancellation path. The first SIGINT / SIGTERM
 * aborts the command's signal (it stops its work and boards, removes its temp folders, exits 130 / 143); a
 * second one exits at once (temp folders are still removed on exit; the boards exit when their stdin
 * closes). A reader closing stdout (`| head -1`) aborts it too, and the run ends quietly with status 0.
 */
import type { Sink } from './io/context.js';
import { Interrupted } from './io/errors.js';
import { runCli } from './run.js';

const controller = new AbortController();

const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
  if (!controller.signal.aborted) {
    controller.abort(new Interrupted(signal));
    return;
  }
  process.stderr.write(`tinypipe: ${signal} again: exiting now\n`);
  process.exit(new Interrupted(signal).exitCode);
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

/** A process stream that goes quiet once its reader has gone (EPIPE), instead of throwing later. */
function sink(stream: NodeJS.WriteStream): Sink {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
    if (stream === process.stdout && !controller.signal.aborted) controller.abort(new Interrupted('EPIPE'));
  });
  return {
    write: (chunk: string) => !closed && stream.write(chunk),
    isTTY: stream.isTTY === true,
  };
}

const status = await runCli(process.argv.slice(2), {
  stdout: sink(process.stdout),
  stderr: sink(process.stderr),
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exitCode = status;
// an interrupted command has stopped its work; whatever handle is still open must not keep the process
if (controller.signal.aborted) setTimeout(() => process.exit(status), 500).unref();
