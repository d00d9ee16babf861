/**
 * Shared fixtures of the C wire protocol tests (protocol-vectors, protocol-harness, protocol-pty .test.ts):
 * the shared vectors of docs/vectors/protocol.json, the `tp-protocol` harness runner, and a START message.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeMessage } from '@tinypipe/protocol';

export const vectors = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../docs/vectors/protocol.json', import.meta.url)), 'utf8'),
) as {
  cobs: { decoded: string; encoded: string }[];
  frames: {
    type: number;
    session: number;
    seq: number;
    ack: number;
    sack: number;
    payload: string;
    wire: string;
  }[];
  corrupt: { name: string; block: string; reason: string }[];
  hello: { info: Record<string, unknown>; bytes: string }[];
  helloLayout: { protocol: number; bytes: number; offsets: Record<string, number> };
  messages: { message: Record<string, number | string | number[] | boolean>; bytes: string }[];
};
/** A vector's hex, or '-' for an empty one (the harness's spelling). */
export const or = (h: string) => h || '-';
/** START stream 0 with per-layer HASHES after each forward, greedy. */
export const startWithHashes = encodeMessage({
  kind: 'start',
  stream: 0,
  hashes: true,
  sample: false,
  temperature: 0,
  topp: 1,
  seed: 0n,
  sampleFrom: 0,
});

/** Runs the harness with one command per line; returns its answers. */
export function harness(program: string, lines: string[]): string[] {
  return execFileSync(program, { input: `${lines.join('\n')}\n`, maxBuffer: 1 << 26 })
    .toString()
    .trimEnd()
    .split('\n');
}

/** A binary32's bits as 8 hex digits (the C harness prints a float field that way). */
export const f32Hex = (v: number) => {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, v, true);
  return b.getUint32(0, true).toString(16).padStart(8, '0');
};
