/**
 * Issue 17's mixed build through the real C board: board 0 holds the q8 image, board 1 the q4 image of the
 * same model and split. Both images carry the same model, but their fingerprints name the quantization
 * (`quantFingerprint`), so the handshake refuses board 1 (`WRONG_MODEL`) before any token runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, fingerprintHex, quantize, readCheckpoint, splitSelections } from '@tinypipe/core';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { type PtyBoard, spawnPtyBoard } from './pty-board.js';

const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const checkpoint = readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin'))));
const running: PtyBoard[] = [];
afterAll(async () => {
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
});

describe('a q8 board beside a q4 board of the same model', () => {
  it('is refused at the handshake with WRONG_MODEL; the q8 board still connects', async () => {
    const q8 = quantize(checkpoint, { weights: 'q8' });
    const q4 = quantize(checkpoint, { weights: 'q4' });
    expect(fingerprintHex(q4.fingerprint)).not.toBe(fingerprintHex(q8.fingerprint));
    const [first, second] = splitSelections(q8.config, [2, 3], 1);
    const images = [buildImage(q8, first!), buildImage(q4, second!)];
    const boards = await Promise.all(
      images.map(async (bytes, i) => {
        const path = join(tmp, `quant-mix-${i}.img`);
        writeFileSync(path, bytes);
        const board = await spawnPtyBoard(path, { board: i });
        running.push(board);
        return board;
      }),
    );
    const connect = async (board: PtyBoard) =>
      ReliableLink.connect(await openSerialPort(board.path), { expect: { fingerprint: q8.fingerprint } });
    const good = await connect(boards[0]!);
    await good.close();
    let caught: unknown;
    expect(
      await errorCodeOf(async () => {
        try {
          await connect(boards[1]!);
        } catch (e) {
          caught = e;
          throw e;
        }
      }),
    ).toBe('WRONG_MODEL');
    expect(String((caught as Error).message)).toMatch(/fingerprint|model/);
  });
});
