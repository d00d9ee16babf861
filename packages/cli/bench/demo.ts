/**
 * The pipeline's speed-up, side by side in one run (issue 9): `tinypipe demo --json` with 1 board × 1
 * stream, then 2 boards × 2 streams, in host mode (boards as fast as this machine) and emulating ESP32-S3
 * N16R8 boards (each board paces its compute to the cost model's prediction and its UART to 2 Mbaud).
 * Run: npm run bench
 */
import { runCli } from '../src/run.js';

async function demo(
  args: string[],
): Promise<{ tokensPerSecond: number; measuredOverPredicted: number; identicalToHost: boolean }> {
  let out = '';
  const code = await runCli(['demo', '--steps', '160', '--seed', '1', '--json', ...args], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: () => {} },
    cwd: process.cwd(),
  });
  if (code !== 0) throw new Error(`demo ${args.join(' ')} failed`);
  return JSON.parse(out);
}

for (const mode of [[], ['--emulate', 'esp32s3-n16r8']]) {
  const one = await demo(['--boards', '1', '--streams', '1', ...mode]);
  const two = await demo(['--boards', '2', '--streams', '2', ...mode]);
  const label = mode.length ? 'emulating esp32s3-n16r8' : 'host speed';
  console.log(
    `${label.padEnd(24)} 1 board × 1 stream ${one.tokensPerSecond.toFixed(1)} tok/s, 2 boards × 2 streams ${two.tokensPerSecond.toFixed(1)} tok/s: ` +
      `ratio ${(two.tokensPerSecond / one.tokensPerSecond).toFixed(2)}; measured ÷ predicted ${one.measuredOverPredicted} / ${two.measuredOverPredicted}; ` +
      `identical to host: ${one.identicalToHost && two.identicalToHost}`,
  );
}
