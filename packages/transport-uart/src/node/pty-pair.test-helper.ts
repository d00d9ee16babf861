/** Two linked pseudo-terminals from socat (`socat pty,raw,echo=0 pty,raw,echo=0`), for serial tests. */
import { type ChildProcess, spawn } from 'node:child_process';

export interface PtyPair {
  paths: [string, string];
  process: ChildProcess;
  stop(): void;
}

export async function ptyPair(): Promise<PtyPair> {
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const paths = await new Promise<string[]>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`socat gave no PTYs: ${text}`)), 10_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`socat is needed for the PTY tests (apt-get install socat): ${e.message}`));
    });
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      const found = [...text.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
      if (found.length === 2 && /starting data transfer loop/.test(text)) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  return {
    paths: [paths[0]!, paths[1]!],
    process: child,
    stop: () => child.kill('SIGTERM'),
  };
}
