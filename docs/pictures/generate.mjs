#!/usr/bin/env node
/**
 * Regenerates the pictures in this folder with the built CLI (`npm run pictures` builds first):
 *   plan-15M-3boards.svg   tinypipe plan --svg   (synthetic stories15M q4 over three ESP32-S3-N16R8)
 *   eval-260K.svg          tinypipe eval --svg   (bundled stories260K, q8 and q4 against fp32)
 *   trace-demo.json        tinypipe demo --trace (three simulated boards in a chain, two streams, paced
 *                          as ESP32-S3-N16R8 would compute): open it in ui.perfetto.dev
 *   trace-demo.svg         the same kind of run drawn as a timeline (demo --trace *.svg)
 *   browser-app.png        the browser example in headless Chromium (examples/src/browser/chromium.test.ts),
 *                          where playwright-core and Chromium are installed
 *   package-map.svg        which package depends on which, from each packages/NAME/package.json (package-map.mjs;
 *                          consumer/src/package-map.test.ts fails when it is out of date)
 * The plan and eval pictures are the same bytes on every run; the traces hold this machine's timings.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packageMapSvg } from './package-map.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const bin = fileURLToPath(new URL('../../packages/cli/bin/tinypipe.js', import.meta.url));
const run = (...args) => {
  console.log(`tinypipe ${args.join(' ')}`);
  execFileSync(process.execPath, [bin, ...args], { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
};

console.log('package-map.svg: from packages/*/package.json');
writeFileSync(
  new URL('package-map.svg', import.meta.url),
  packageMapSvg(fileURLToPath(new URL('../../', import.meta.url))),
);
run(
  'plan',
  '--model',
  'synth:15M',
  '--boards',
  'esp32s3-n16r8,esp32s3-n16r8,esp32s3-n16r8',
  '--svg',
  'plan-15M-3boards.svg',
);
run('eval', '--quant', 'q8', '--quant', 'q4', '--steps', '128', '--json', '--svg', 'eval-260K.svg');
const demo = 'demo --boards 3 --streams 2 --steps 24 --seed 1 --emulate esp32s3-n16r8 --json'.split(' ');
run(...demo, '--trace', 'trace-demo.json');
run(...demo, '--trace', 'trace-demo.svg');
let playwright = false;
try {
  import.meta.resolve('playwright-core');
  playwright = true;
} catch {
  console.log('browser-app.png: skipped (no playwright-core; see examples/README.md)');
}
if (playwright) {
  console.log('examples: vitest run src/browser/chromium.test.ts');
  execFileSync('npx', ['vitest', 'run', 'src/browser/chromium.test.ts'], {
    cwd: fileURLToPath(new URL('../../examples/', import.meta.url)),
    env: { ...process.env, TINYPIPE_SCREENSHOT: fileURLToPath(new URL('browser-app.png', import.meta.url)) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
