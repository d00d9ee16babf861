import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerProject, createConsumerProject, publishedPackages, repoRoot } from './project.js';

let project: ConsumerProject;
beforeAll(() => {
  project = createConsumerProject();
});
afterAll(() => project?.remove());

const json = (out: string) => JSON.parse(out) as Record<string, unknown>;

describe('the published packages, installed from their tarballs into a project outside the repository', () => {
  it('ship what they need: LICENSE, README, the models, the firmware sources for the board build', () => {
    expect([...project.files.keys()].sort()).toEqual([...publishedPackages().keys()].sort());
    for (const [name, files] of project.files) {
      expect(files, name).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
      expect(
        files.filter((f) => f.endsWith('.map')),
        `${name}: source maps`,
      ).toEqual([]);
    }
    expect(project.files.get('@tinypipe/models')).toEqual(
      expect.arrayContaining([
        'data/stories260K.bin',
        'data/tok512.bin',
        'data/tokenizer.bin',
        'data/NOTICE',
      ]),
    );
    expect(project.files.get('@tinypipe/firmware')).toEqual(
      expect.arrayContaining(['CMakeLists.txt', 'test/vectors.c', 'ports/posix/board.c']),
    );
    expect(project.files.get('@tinypipe/cli')).toEqual(
      expect.arrayContaining(['bin/tinypipe.js', 'dist/bin.js']),
    );
    // every file package.json points at (exports, types, bin) is in the tarball
    for (const [name, folder] of publishedPackages()) {
      const pkg = JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8'));
      const targets = new Set<string>();
      const collect = (v: unknown): void => {
        if (typeof v === 'string') targets.add(v.replace(/^\.\//, ''));
        else if (v && typeof v === 'object') for (const x of Object.values(v)) collect(x);
      };
      collect([pkg.exports, pkg.main, pkg.types, pkg.bin]);
      expect(project.files.get(name), name).toEqual(expect.arrayContaining([...targets]));
    }
    // READMEs stand alone: links that work on npm (absolute, or to files in the tarball), no planning words
    for (const [name, files] of project.files) {
      const readme = readFileSync(join(project.dir, 'node_modules', name, 'README.md'), 'utf8');
      const relative = [...readme.matchAll(/\]\((?!https?:|#)([^)\s]+)\)/g)].map((m) => m[1]!.split('#')[0]!);
      expect(
        relative.filter((f) => !files.includes(f)),
        `${name}: relative links`,
      ).toEqual([]);
      expect(readme, name).not.toMatch(/\b(issue \d|sessions?\b|the [a-z]+ issue\b)/i);
    }
    // nothing is resolved from the repository: the installed copies are real folders in the project
    expect(existsSync(join(project.dir, 'node_modules/@tinypipe/core/dist/index.js'))).toBe(true);
  });

  it('generate from the bundled model, stopped by an AbortSignal', () => {
    const out = json(project.run('node', ['generate.mjs']));
    expect(out.text).toMatch(/^Once upon a time/);
    expect(out.abortedAfter).toBe(5);
  });

  it('a third-party Transport (TCP) passes the contract suite of @tinypipe/core/testing', () => {
    const out = json(project.run('node', ['contract.mjs']));
    expect((out.passed as string[]).length).toBeGreaterThanOrEqual(3);
  });

  it('plan → build → flash → a 2-board pipeline on simulated boards, the same story as the host', () => {
    const out = json(project.run('node', ['pipeline.mjs']));
    expect(out.layers).toHaveLength(2);
    expect(out.split).toMatch(/^Once upon a time/);
    expect(out.tokens).toEqual(out.hostTokens);
    // the board was built in the user's cache ($XDG_CACHE_HOME here), not inside node_modules
    const cache = join(project.dir, '../cache/tinypipe/firmware');
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'packages/firmware/package.json'), 'utf8'));
    expect(readdirSync(cache)).toEqual([`${version}-${readdirSync(cache)[0]?.split('-').pop()}`]);
    expect(readdirSync(cache)[0]).toMatch(/-[0-9a-f]{12}$/);
    expect(existsSync(join(project.dir, 'node_modules/@tinypipe/firmware/build'))).toBe(false);
  });

  it('npx tinypipe demo from the installed CLI (bundled model, no repository)', () => {
    const out = project.run('npx', [
      '--offline',
      'tinypipe',
      'demo',
      '--boards',
      '2',
      '--steps',
      '24',
      '--seed',
      '1',
    ]);
    expect(out).toMatch(/^Once upon a time/);
    const gen = project.run('npx', [
      '--offline',
      'tinypipe',
      'generate',
      '--model',
      'synth:15M',
      '--steps',
      '4',
    ]);
    expect(gen.length).toBeGreaterThan(0);
  });

  it('strict tsc on a file that imports every public entry point', () => {
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const types = join(repoRoot, 'node_modules/@types');
    let output = '';
    try {
      project.run('node', [tsc, '-p', 'tsconfig.json', '--typeRoots', types]);
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(output).toBe('');
  });

  it('require() of every entry works (Node ≥ 20.19 loads ES modules from CommonJS)', () => {
    const out = json(project.run('node', ['require.cjs']));
    for (const [entry, exports] of Object.entries(out)) expect(exports, entry).toBeGreaterThan(0);
  });
});
