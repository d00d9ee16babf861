/**
 * What a user installs for one job: only the wire protocol, or the UART link for a browser. Each is a
 * project of its own, installed from the packed tarballs like consumer.test.ts's.
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
