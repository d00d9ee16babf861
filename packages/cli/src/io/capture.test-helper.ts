/** Runs the CLI in-process with captured output (test helper, not part of the package). */
import { runCli } from '../run.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCapture(argv: readonly string[], cwd = process.cwd()): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd,
  });
  return { code, stdout, stderr };
}
