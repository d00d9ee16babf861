/** Step 2 of the demo: start the simulated boards on PTYs and flash them in parallel. */
import { join } from 'node:path';
import { type PtyBoard, type PtyBoardOptions, spawnPtyBoard, spawnPtyChain } from '@tinypipe/firmware';
import { boardImage, flashPlan } from '@tinypipe/flasher';
import { TinypipeError } from '@tinypipe/protocol';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import type { CliContext } from '../../io/context.js';
import type { Progress } from '../../io/progress.js';
import type { DemoRun } from './flags.js';
import type { DemoModel } from './prepare.js';

/**
 * Starts `flags.boards` posix boards (`program`: buildPosixBoard's binary) with their flash files in `dir`, wired as
 * `flags.topology` says; each board is pushed onto `boards` as soon as it runs, so the caller can stop them
 * whatever happens. Each board has its profile's flash and PSRAM (less the plan's reserve); with `--ber` it
 * damages its lines; with `--emulate` it is paced to its plan.
 */
export async function startBoards(
  flags: DemoRun,
  model: DemoModel,
  program: string,
  dir: string,
  boards: PtyBoard[],
): Promise<void> {
  const { plan } = model;
  const options = (i: number): PtyBoardOptions => ({
    program,
    flash: join(dir, `board-${i}.flash`),
    flashSize: plan.boards[i]!.profile.flashBytes,
    board: i,
    mac: `7c:df:a1:00:00:${i.toString(16).padStart(2, '0')}`,
    ...(flags.ber > 0 ? { ber: flags.ber, seed: flags.seed + i } : {}),
    streams: Math.max(4, flags.streams),
    // the profile's PSRAM less what the plan keeps back for the heap: the board runs the streams that fit
    psram: Math.max(0, plan.boards[i]!.profile.psramBytes - plan.boards[i]!.profile.psramReserveBytes),
    ...(flags.emulate
      ? {
          stageUs: (plan.boards[i]!.predicted.layersMs + plan.boards[i]!.predicted.classifierMs) * 1000,
          preloadUs: plan.boards[i]!.predicted.preloadMs * 1000,
          lineBaud: plan.boards[i]!.profile.uartBaud,
        }
      : {}),
  });
  if (flags.topology === 'chain')
    boards.push(...(await spawnPtyChain(Array(flags.boards).fill(undefined), options)));
  else for (let i = 0; i < flags.boards; i++) boards.push(await spawnPtyBoard(undefined, options(i)));
}

/**
 * Flashes every board its image over the ESP bootloader protocol, all at once, showing the bytes written on
 * `progress` (and each verified region through `say` when stderr is not a terminal). Resolves to the time it
 * took in ms; throws the first board's error when a board fails.
 */
export async function flashBoards(
  ctx: CliContext,
  flags: DemoRun,
  model: DemoModel,
  boards: readonly PtyBoard[],
  progress: Progress,
  say: (s: string) => void,
): Promise<number> {
  const written = new Map<string, [number, number]>(); // board and region → bytes done, of
  const flashStart = performance.now();
  const results = await flashPlan(
    await Promise.all(
      model.builds.map(async (b, i) => ({
        image: boardImage(b),
        port: boards[i]!.path,
        transport: await openSerialPort(boards[i]!.path),
      })),
    ),
    {
      onEvent: (e) => {
        if (e.kind === 'progress') {
          written.set(`${e.board} ${e.region}`, [e.done, e.total]);
          const all = [...written.values()];
          const sum = (k: 0 | 1) => all.reduce((a, d) => a + d[k], 0);
          progress.update(sum(0), sum(1), `writing ${written.size} region(s) of ${flags.boards} board(s)`);
        } else if (e.kind === 'verified' && !flags.json && ctx.stderr.isTTY !== true)
          say(`  board ${e.board} (${e.port}): ${e.region} flashed and verified\n`);
      },
    },
  );
  const failed = results.find((r) => !r.ok);
  if (failed)
    throw failed.error ?? new TinypipeError('FLASH_FAILED', `board ${failed.board} failed to flash`);
  progress.stop();
  return performance.now() - flashStart;
}
