/** `tinypipe demo` end to end: simulated boards planned, built, flashed, booted and streamed through. */
import { describe, expect, it } from 'vitest';
import { runCapture } from '../io/capture.test-helper.js';

describe('tinypipe demo', () => {
  it('plans, builds, flashes and boots simulated boards, streams a story, and checks it against the host', async () => {
    const r = await runCapture(['demo', '--boards', '2', '--steps', '40', '--seed', '7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('Once upon a time')).toBe(true);
    expect(r.stderr).toMatch(/q8 on 2 simulated ESP32-S3 board\(s\)/);
    expect(r.stderr).toMatch(/board 1 \(\/dev\/pts\/\d+\): model\.img flashed and verified/);
    expect(r.stderr).toMatch(/identical to the unsplit host run: yes/);
    expect(r.stderr).toMatch(/cost model predicts [\d.]+ tok\/s \(a projection, not a measurement\)/);
    // the projection names where its figures come from and the kernel it assumes (the firmware's own)
    expect(r.stderr).toMatch(
      /esp32s3-n16r8's figures: datasheet \(estimates with their sources; tinypipe calibrate measures them on a board\); kernel ansi \(portable C, the firmware’s\) 0\.08 MAC\/cycle/,
    );
    // the same seed gives the same story
    expect((await runCapture(['demo', '--boards', '2', '--steps', '40', '--seed', '7'])).stdout).toBe(
      r.stdout,
    );
  }, 120_000);

  it('--ber 1e-4: the boards damage their lines, the link retransmits, the story is still the host’s', async () => {
    const r = await runCapture([
      'demo',
      '--boards',
      '2',
      '--steps',
      '40',
      '--seed',
      '3',
      '--ber',
      '1e-4',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.identicalToHost).toBe(true);
    expect(s.retransmits).toBeGreaterThan(0);
  }, 120_000);

  it('--emulate paces the boards to an ESP32-S3 profile and compares the speed with the cost model', async () => {
    const r = await runCapture([
      'demo',
      '--boards',
      '2',
      '--steps',
      '24',
      '--seed',
      '2',
      '--emulate',
      'esp32s3-n16r8',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ emulated: 'esp32s3-n16r8', identicalToHost: true });
    expect(s.predicted.tokensPerSecond).toBeGreaterThan(0);
    // paced to the profile, the boards are far slower than the host-speed run would be
    expect(s.tokensPerSecond).toBeLessThan(s.predicted.tokensPerSecond * 2);
    expect(s.measuredOverPredicted).toBeGreaterThan(0);
  }, 120_000);

  it('--json: several streams on three boards, every story identical to its host run', async () => {
    const r = await runCapture([
      'demo',
      '--boards',
      '3',
      '--streams',
      '3',
      '--steps',
      '40',
      '--seed',
      '1',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ boards: 3, streams: 3, identicalToHost: true });
    expect(s.tokens).toBeGreaterThan(60);
    expect(s.perBoard).toHaveLength(3);
    // every board computed every position of the three stories
    expect(new Set(s.perBoard.map((b: { positions: number }) => b.positions)).size).toBe(1);
    expect(s.perBoard[0].positions).toBeGreaterThanOrEqual(s.tokens);
  }, 120_000);

  it('--topology chain: boards wired board to board, the host at both ends, through damaged lines', async () => {
    const r = await runCapture([
      'demo',
      '--boards',
      '3',
      '--streams',
      '2',
      '--steps',
      '40',
      '--seed',
      '5',
      '--topology',
      'chain',
      '--ber',
      '1e-4',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ boards: 3, streams: 2, topology: 'chain', identicalToHost: true });
    expect(s.tokens).toBe(80);
    // the host has a link to the first board and one from the last; the middle board, not on USB,
    // reports through the chain (STATS): every board computed every position, its lines were damaged
    expect(s.perBoard.map((b: { board: number }) => b.board)).toEqual([0, 1, 2]);
    for (const b of s.perBoard) {
      expect(b.positions).toBeGreaterThanOrEqual(80);
      expect(b.computeMsPerPosition).toBeGreaterThan(0);
      expect(b.bytesSent).toBeGreaterThan(0);
    }
    expect(
      s.perBoard.reduce((a: number, b: { droppedFrames: number }) => a + b.droppedFrames, 0),
    ).toBeGreaterThan(0);
  }, 120_000);

  for (const topology of ['star', 'chain'])
    it(`--embedding host (${topology}): no board holds the embedding, the host sends board 0 each token's row; the story is the host's`, async () => {
      const args = ['demo', '--boards', '2', '--steps', '40', '--seed', '4', '--topology', topology];
      const r = await runCapture([...args, '--embedding', 'host']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/host: the embedding \([\d.]+ MB image\): it sends board 0 each token's row/);
      expect(r.stderr).not.toMatch(/board 0: [^\n]*embedding/);
      expect(r.stderr).toMatch(/identical to the unsplit host run: yes/);
      // the same story as with the embedding on board 0
      const onBoard = await runCapture([...args, '--embedding', 'board']);
      expect(onBoard.code, onBoard.stderr).toBe(0);
      expect(onBoard.stderr).toMatch(/board 0: [^\n]*embedding/);
      expect(r.stdout).toBe(onBoard.stdout);
    }, 120_000);

  it('--split-classifier runs only in a star; --seq-len at most the model’s', async () => {
    const chain = await runCapture(['demo', '--split-classifier', '--topology', 'chain']);
    expect(chain.code).toBe(2);
    expect(chain.stderr).toMatch(/split classifier runs in a star topology: add --topology star/);
    const long = await runCapture(['demo', '--seq-len', '4096']);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/--seq-len must be at most the model's 512/);
  });

  it('--topology must be star or chain', async () => {
    const r = await runCapture(['demo', '--topology', 'ring']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--topology.*star.*chain/);
  });
});
