import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapture } from './io/capture.test-helper.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const models = join(repo, 'models');
const goldenDir = join(repo, 'golden');
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tinypipe generate reproduces the llama2.c goldens', () => {
  const files = readdirSync(goldenDir).filter((f) => /^stories260K-.*\.json$/.test(f));
  for (const file of files) {
    const g = JSON.parse(readFileSync(join(goldenDir, file), 'utf8'));
    it(file, async () => {
      const r = await runCapture([
        'generate',
        '--model',
        join(models, g.model),
        '--tokenizer',
        join(models, g.tokenizer),
        '--prompt',
        g.prompt,
        '--steps',
        String(g.steps),
        '--temperature',
        String(g.temperature),
        '--topp',
        String(g.topp),
        '--seed',
        String(g.seed),
        '--json',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.tokens).toEqual(g.tokens);
      expect(out.text).toBe(g.text);
      expect(out.seed).toBe(g.seed);
      expect(out.tokensPerSecond).toBeGreaterThan(0);
    });
  }

  it('streams text by default and prints the seed it picked', async () => {
    const r = await runCapture(['generate', '--steps', '20', '--temperature', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^seed: \d+\n/);
    expect(r.stdout.length).toBeGreaterThan(10);
    const json = JSON.parse(
      (await runCapture(['generate', '--steps', '20', '--temperature', '0', '--json'])).stdout,
    );
    expect(r.stdout).toBe(`${json.text}\n`);
  });
});

describe('tinypipe tokenize reproduces the tokenizer goldens', () => {
  const cases = [
    ...JSON.parse(readFileSync(join(goldenDir, 'tok512-encode.json'), 'utf8')),
    ...JSON.parse(readFileSync(join(goldenDir, 'tokenizer32000-encode.json'), 'utf8')),
  ];
  for (const c of cases) {
    it(`${c.tokenizer}: ${JSON.stringify(c.text)}`, async () => {
      const argv = ['tokenize', '--tokenizer', join(models, c.tokenizer), '--text', c.text, '--json'];
      if (c.bos) argv.push('--bos');
      if (c.eos) argv.push('--eos');
      const r = await runCapture(argv);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ tokens: c.tokens });
    });
  }
});

describe('tinypipe demo', () => {
  it('plans, builds, flashes and boots simulated boards, streams a story, and checks it against the host', async () => {
    const r = await runCapture(['demo', '--boards', '2', '--steps', '40', '--seed', '7']);
    expect(r.code).toBe(0);
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
    expect(r.code).toBe(0);
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
    expect(r.code).toBe(0);
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
    expect(r.code).toBe(0);
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
    expect(r.code).toBe(0);
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

  it('--topology must be star or chain', async () => {
    const r = await runCapture(['demo', '--topology', 'ring']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--topology.*star.*chain/);
  });
});

describe('tinypipe inspect and synth', () => {
  it('inspect --json shows shape, parameters and the tensor table', async () => {
    const r = await runCapture(['inspect', join(models, 'stories260K.bin'), '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.config).toMatchObject({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
    });
    expect(info.parameters).toBe(260_032);
    expect(info.bytes).toBe(statSync(join(models, 'stories260K.bin')).size);
    expect(info.tensors[0]).toMatchObject({ name: 'tokenEmbedding', offset: 28, bytes: 512 * 64 * 4 });
  });

  it('synth writes a checkpoint that inspect reads back, deterministically', async () => {
    const a = join(tmp, 'a.bin');
    const b = join(tmp, 'b.bin');
    expect((await runCapture(['synth', '--shape', '260K', '--seed', '5', '--out', a])).code).toBe(0);
    expect(
      (await runCapture(['synth', '--shape', '260K', '--seed', '5', '--out', b, '--version', '1'])).code,
    ).toBe(0);
    expect(statSync(a).size).toBe(statSync(join(models, 'stories260K.bin')).size);
    const ia = JSON.parse((await runCapture(['inspect', a, '--json'])).stdout);
    const ib = JSON.parse((await runCapture(['inspect', b, '--json'])).stdout);
    expect(ia.format.version).toBe(0);
    expect(ib.format.version).toBe(1);
    expect(ia.config).toEqual(ib.config);
    const again = join(tmp, 'c.bin');
    await runCapture(['synth', '--shape', '260K', '--seed', '5', '--out', again]);
    expect(readFileSync(again).equals(readFileSync(a))).toBe(true);
  });
});

describe('quantized commands', () => {
  it('quantize writes an image that image inspect verifies; a flipped byte is refused naming the tensor', async () => {
    const out = join(tmp, 'q4.img');
    const q = await runCapture(['quantize', '--weights', 'q4', '--out', out, '--json']);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toMatchObject({ weights: 'q4', groupSize: 32, bytes: statSync(out).size });
    const ok = JSON.parse((await runCapture(['image', 'inspect', out, '--json'])).stdout);
    expect(ok.ok).toBe(true);
    expect(ok.header).toMatchObject({
      layerRange: [0, 5],
      embedding: true,
      vocabRange: [0, 512],
      kind: 'q4',
      groupSize: 32,
    });
    const wq = ok.tensors.find((t: { name: string }) => t.name === 'layers.2.wq.data');
    const bad = readFileSync(out);
    bad[wq.offset + 5]! ^= 0x10;
    const badPath = join(tmp, 'bad.img');
    writeFileSync(badPath, bad);
    const r = await runCapture(['image', 'inspect', badPath]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL tensor:layers\.2\.wq\.data/);
    expect(r.stderr).toMatch(/^tinypipe: IMAGE_TENSOR_CRC: .*layers\.2\.wq\.data/);
  });

  it('generate --quant --split gives the tokens and layer hashes of the unsplit quantized run', async () => {
    const base = [
      'generate',
      '--quant',
      'q4',
      '--steps',
      '24',
      '--temperature',
      '1',
      '--topp',
      '0.9',
      '--seed',
      '5',
      '--json',
    ];
    const whole = JSON.parse((await runCapture(base)).stdout);
    const split = JSON.parse((await runCapture([...base, '--split', '2,1,2'])).stdout);
    expect(whole.split).toEqual([5]);
    expect(split.split).toEqual([2, 1, 2]);
    expect(split.tokens).toEqual(whole.tokens);
    expect(split.layerHashes).toEqual(whole.layerHashes);
    expect(whole.layerHashes).toHaveLength(whole.tokens.length);
    expect(whole.layerHashes[0]).toHaveLength(5);
    expect(whole.layerHashes[0][0]).toMatch(/^[0-9a-f]{8}$/);
    const bad = await runCapture([...base, '--split', '2,2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tinypipe: INVALID_ARGUMENT: split \[2, 2\] covers 4 layers/);
  });

  it('eval: q8 agrees with fp32 on at least 95% of positions', async () => {
    const r = await runCapture(['eval', '--quant', 'q8', '--steps', '64', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rows[0].weights).toBe('q8');
    expect(report.rows[0].top1Agreement).toBeGreaterThanOrEqual(0.95);
    expect(report.rows[0].meanKL).toBeGreaterThan(0);
  });
});

describe('tinypipe link-soak', () => {
  it('prints the issue’s counters; a clean line loses nothing', async () => {
    const r = await runCapture(['link-soak', '--frames', '300', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      frames: 300,
      delivered: 300,
      corruptDelivered: 0,
      duplicatesDelivered: 0,
      outOfOrder: 0,
      lost: 0,
    });
  });
  it('a mildly noisy line: still everything, once, in order, with retransmissions', async () => {
    const r = await runCapture([
      'link-soak',
      '--frames',
      '300',
      '--ber',
      '1e-4',
      '--drop',
      '0.001',
      '--insert',
      '0.001',
      '--seed',
      '4',
      '--json',
    ]);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      frames: 300,
      delivered: 300,
      corruptDelivered: 0,
      duplicatesDelivered: 0,
      outOfOrder: 0,
      lost: 0,
    });
    expect(out.retransmits).toBeGreaterThan(0);
  });
  it('refuses a probability outside [0, 1)', async () => {
    const r = await runCapture(['link-soak', '--drop', '1.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tinypipe: USAGE: --drop 1.5 must be a probability/);
  });
});

describe('tinypipe ports', () => {
  it('lists serial ports as JSON, each with a path and the ESP32-S3 mark', async () => {
    const r = await runCapture(['ports', '--json']);
    expect(r.code).toBe(0);
    const ports = JSON.parse(r.stdout) as { path: string; likelyEsp32s3: boolean }[];
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) {
      expect(p.path).toMatch(/^\/dev\//);
      expect(typeof p.likelyEsp32s3).toBe('boolean');
    }
  });
});

describe('bad input: one line with the code, exit 2 (usage) or 1 (input), no stack trace', () => {
  const good = readFileSync(join(models, 'stories260K.bin'));
  const truncated = join(tmp, 'truncated.bin');
  writeFileSync(truncated, good.subarray(0, 1000));
  const magic = join(tmp, 'magic.bin');
  writeFileSync(magic, Buffer.concat([Buffer.from('GGUF'), good.subarray(4)]));
  const badHeader = join(tmp, 'header.bin');
  const h = Buffer.from(good);
  h.writeInt32LE(3, 12); // n_heads = 3 does not divide dim = 64
  writeFileSync(badHeader, h);
  const tooShort = join(tmp, 'short.bin');
  writeFileSync(tooShort, good.subarray(0, 10));
  const sums = join(tmp, 'sums');
  execFileSync('mkdir', ['-p', sums]);
  writeFileSync(join(sums, 'stories260K.bin'), good);
  writeFileSync(join(sums, 'SHA256SUMS'), `${'0'.repeat(64)}  stories260K.bin\n`);

  const cases: [string, string[], number, string][] = [
    ['truncated model', ['generate', '--model', truncated, '--steps', '4'], 1, 'CHECKPOINT_SIZE_MISMATCH'],
    ['header cut', ['inspect', tooShort], 1, 'CHECKPOINT_TRUNCATED'],
    ['wrong magic', ['inspect', magic], 1, 'CHECKPOINT_BAD_MAGIC'],
    ['inconsistent header', ['inspect', badHeader], 1, 'CHECKPOINT_BAD_HEADER'],
    ['missing file', ['inspect', join(tmp, 'nope.bin')], 1, 'FILE_NOT_FOUND'],
    ['hash mismatch', ['inspect', join(sums, 'stories260K.bin')], 1, 'HASH_MISMATCH'],
    [
      'tokenizer of the wrong vocab',
      ['generate', '--tokenizer', join(models, 'tokenizer.bin'), '--steps', '4'],
      1,
      'TOKENIZER_VOCAB_MISMATCH',
    ],
    ['steps 0', ['generate', '--steps', '0'], 2, 'BAD_STEPS'],
    ['steps -3', ['generate', '--steps', '-3'], 2, 'BAD_STEPS'],
    ['steps not a number', ['generate', '--steps', 'ten'], 2, 'USAGE'],
    ['temperature < 0', ['generate', '--temperature', '-1'], 2, 'BAD_TEMPERATURE'],
    ['topp > 1', ['generate', '--topp', '1.5'], 2, 'BAD_TOPP'],
    ['topp < 0', ['generate', '--topp', '-0.1'], 2, 'BAD_TOPP'],
    [
      'prompt longer than seq_len',
      ['generate', '--prompt', 'the cat sat on the mat. '.repeat(120), '--steps', '4'],
      2,
      'PROMPT_TOO_LONG',
    ],
    ['unknown option', ['generate', '--stepz', '4'], 2, 'USAGE'],
    ['unknown command', ['fly'], 2, 'USAGE'],
    [
      'unknown synth shape',
      ['synth', '--shape', '7B', '--seed', '1', '--out', join(tmp, 'x.bin')],
      2,
      'USAGE',
    ],
    ['split without quant', ['generate', '--split', '2,3', '--steps', '4'], 2, 'USAGE'],
  ];
  for (const [name, argv, code, errorCode] of cases) {
    it(`${name} → exit ${code}, ${errorCode}`, async () => {
      const r = await runCapture(argv);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(new RegExp(`^tinypipe: ${errorCode}: .+\\n$`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('--debug adds the stack trace', async () => {
    const r = await runCapture(['inspect', tooShort, '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('the installed binary exits with the same status and prints one line', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'generate', '--topp', '7'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^tinypipe: BAD_TOPP: [^\n]+\n$/);
    const help = spawnSync(process.execPath, [bin, 'generate', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--temperature');
  });
});
