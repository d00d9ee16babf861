/**
 * What a user installs for one job: only the wire protocol, the UART link for a browser, or the host
 * runtime with its in-memory board for tests. Each is a project of its own, installed from the packed
 * tarballs like consumer.test.ts's.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerProject, createConsumerProject } from './project.js';

interface LsNode {
  dependencies?: Record<string, LsNode>;
}

/** Every folder under `dir` that marks a native addon: binding.gyp, prebuilds/, or node-gyp-build itself. */
function nativeAddons(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (
        e.name === 'binding.gyp' ||
        (e.isDirectory() && (e.name === 'prebuilds' || e.name === 'node-gyp-build'))
      )
        found.push(p);
      else if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return found;
}

describe('a project that installs only @tinypipe/protocol', () => {
  let project: ConsumerProject;
  beforeAll(() => {
    project = createConsumerProject(['@tinypipe/protocol']);
  });
  afterAll(() => project?.remove());

  it('has no dependency besides it in npm ls --all', () => {
    const tree = JSON.parse(project.run('npm', ['ls', '--all', '--json'])) as LsNode;
    expect(Object.keys(tree.dependencies ?? {})).toEqual(['@tinypipe/protocol']);
    expect(tree.dependencies?.['@tinypipe/protocol']?.dependencies ?? {}).toEqual({});
    expect(readdirSync(join(project.dir, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual([
      '@tinypipe',
    ]);
  });

  it('frames a message and checks it back, and runs the contract suite entry', () => {
    const out = project.run('node', [
      '--input-type=module',
      '-e',
      `import { decodeBlock, decodeMessage, encodeFrame, encodeMessage, FrameType } from '@tinypipe/protocol';
       import { transportContract } from '@tinypipe/protocol/testing';
       const payload = encodeMessage({ kind: 'token', stream: 1, pos: 2, token: 3 });
       const block = encodeFrame({ type: FrameType.DATA, session: 1, seq: 0, ack: 0, sack: 0, payload });
       const frame = decodeBlock(block.subarray(1, -1));
       process.stdout.write(JSON.stringify({ message: decodeMessage(frame.payload), contract: typeof transportContract }));`,
    ]);
    expect(JSON.parse(out)).toEqual({
      message: { kind: 'token', stream: 1, pos: 2, token: 3 },
      contract: 'function',
    });
  });
});

describe('a project that installs @tinypipe/transport-uart for the browser (no serialport)', () => {
  let project: ConsumerProject;
  beforeAll(() => {
    project = createConsumerProject(['@tinypipe/transport-uart']);
  });
  afterAll(() => project?.remove());

  it('installs no native addon', () => {
    expect(existsSync(join(project.dir, 'node_modules/@tinypipe/transport-uart/package.json'))).toBe(true);
    expect(existsSync(join(project.dir, 'node_modules/serialport'))).toBe(false);
    expect(nativeAddons(join(project.dir, 'node_modules'))).toEqual([]);
  });

  it('imports the root and ./web entries; the ./node entry says how to install serialport', () => {
    const out = project.run('node', [
      '--input-type=module',
      '-e',
      `const root = await import('@tinypipe/transport-uart');
       const web = await import('@tinypipe/transport-uart/web');
       const node = await import('@tinypipe/transport-uart/node');
       const error = await node.openSerialPort('/dev/null').catch((e) => e);
       process.stdout.write(JSON.stringify({
         root: typeof root.ReliableLink, web: typeof web.openWebSerialPort,
         code: error.code, message: error.message,
       }));`,
    ]);
    const result = JSON.parse(out) as Record<string, string>;
    expect(result).toMatchObject({ root: 'function', web: 'function', code: 'ENVIRONMENT' });
    expect(result.message).toContain('npm i serialport');
  });
});

describe('a project that installs @tinypipe/pipeline (with core, the partitioner and the bundled models)', () => {
  let project: ConsumerProject;
  beforeAll(() => {
    project = createConsumerProject([
      '@tinypipe/pipeline',
      '@tinypipe/core',
      '@tinypipe/partitioner',
      '@tinypipe/models',
    ]);
  });
  afterAll(() => project?.remove());

  it('installs no native addon (serialport is an optional peer of transport-uart)', () => {
    expect(existsSync(join(project.dir, 'node_modules/@tinypipe/pipeline/package.json'))).toBe(true);
    expect(nativeAddons(join(project.dir, 'node_modules'))).toEqual([]);
  });

  it("runs a plan on in-memory boards from ./testing (Pipeline.fromPlan): the host's story, token for token", () => {
    const out = project.run('node', [
      '--input-type=module',
      '-e',
      `import { generateText, QuantEngine, quantize, readCheckpoint, readTokenizer, Sampler } from '@tinypipe/core';
       import { readBundledModel } from '@tinypipe/models';
       import { builtinProfile, planModel } from '@tinypipe/partitioner';
       import { Pipeline } from '@tinypipe/pipeline';
       import { memoryBoard } from '@tinypipe/pipeline/testing';
       const qm = quantize(readCheckpoint(await readBundledModel('stories260K.bin')), { weights: 'q8' });
       const tokenizer = readTokenizer(await readBundledModel('tok512.bin'), 512);
       const plan = planModel({
         model: { name: 'stories260K', source: 'stories260K.bin', config: qm.config, kind: 'q8', groupSize: 32 },
         boards: [builtinProfile('esp32s3-n16r8'), builtinProfile('esp32s3-n16r8')],
         objective: 'throughput',
         splitClassifier: false,
       });
       const boards = plan.boards.map((b) =>
         memoryBoard(qm, { layers: b.layers, embedding: b.embedding, classifier: b.vocab ?? false }, { board: b.index }));
       const pipeline = Pipeline.fromPlan(plan, boards.map((b) => b.connect()), { fingerprint: qm.fingerprint });
       const sampler = () => new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 7 });
       const tokens = [];
       for await (const t of pipeline.generate({ tokenizer, sampler: sampler(), prompt: 'Once upon a time', steps: 32 }))
         tokens.push(t.token);
       await pipeline.close();
       const host = await generateText({ engine: QuantEngine.fromModel(qm), tokenizer, sampler: sampler(), prompt: 'Once upon a time', steps: 32 });
       process.stdout.write(JSON.stringify({ layers: plan.boards.map((b) => b.layers), forwards: boards.map((b) => b.forwards), tokens, host: host.tokens }));`,
    ]);
    const result = JSON.parse(out) as {
      layers: number[][];
      forwards: number[];
      tokens: number[];
      host: number[];
    };
    expect(result.layers).toHaveLength(2);
    expect(result.forwards.every((n) => n > 0)).toBe(true);
    expect(result.tokens.length).toBeGreaterThan(0);
    expect(result.tokens).toEqual(result.host);
  });
});
