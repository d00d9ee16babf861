/**
 * docs/vectors/protocol.json is what scripts/protocol-vectors.ts writes, byte for byte: a vector changed
 * by hand, or a codec change without regenerating the file, fails here (regenerate: npx tsx
 * scripts/protocol-vectors.ts from packages/transport-uart).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { protocolVectors, vectorsPath } from '../scripts/protocol-vectors.js';

describe('docs/vectors/protocol.json', () => {
  const generated = protocolVectors();

  it('is exactly what the generator writes', () => {
    expect(readFileSync(vectorsPath, 'utf8')).toBe(generated);
  });

  it('holds every section the firmware and the codec tests read', () => {
    const v = JSON.parse(generated);
    for (const key of ['crc32cCheck', 'cobs', 'frames', 'corrupt', 'hello', 'helloLayout', 'messages'])
      expect(v, key).toHaveProperty(key);
    const kinds = new Set(v.messages.map((m: { message: { kind: string } }) => m.message.kind));
    const every = [
      'start',
      'token',
      'activation',
      'logits',
      'hashes',
      'end',
      'error',
      'stats-request',
      'stats',
    ];
    for (const kind of [...every, 'calibrate-request', 'calibration']) expect(kinds, kind).toContain(kind);
  });
});
