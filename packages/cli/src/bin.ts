#!/usr/bin/env node
import { runCli } from './run.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('interrupted (Ctrl-C)')));

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  signal: controller.signal,
});
