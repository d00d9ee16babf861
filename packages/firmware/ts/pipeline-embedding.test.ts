/**
 * The embedding on the host (issue 20, docs/protocol.md §5) through the C boards: no board's image holds
 * the embedding, the host embeds each token from an embedding-only image (what `tinypipe build` writes as
 * host.tpimg) and sends board 0 `ACTIVATION` — which a C board takes as input already, unchanged. Star and
 * chain, two boards: the tokens and every layer's hash equal the unsplit TS run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, QuantEngine, QuantStage, readImage, splitSelections } from '@tinypipe/core';
import { Pipeline, type PipelineOptions, pipelinePlan } from '@tinypipe/pipeline';
import type { Link } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { host, qm, running, tokensOf } from './pipeline.test-helper.js';
import { spawnPtyBoard, spawnPtyChain } from './pty-board.js';

const split = [2, 3];
/** The split with no board holding the embedding. */
const onHost = splitSelections(qm.config, split, 1).map((s) => ({ ...s, embedding: false }));
/** The split with the last board holding the embedding (and the classifier: one table when they are shared). */
const onLast = onHost.map((s, i) => ({ ...s, embedding: i === onHost.length - 1 }));
const embedder = new QuantStage(
  readImage(buildImage(qm, { layers: [0, 0], embedding: true, classifier: false })).stage,
);

/** The images of `selections`, written to tmp. */
const images = (selections: typeof onHost, tag: string) =>
  selections.map((sel, i) => {
    const path = join(tmp, `host-embedding-${tag}-${i}.img`);
    writeFileSync(path, buildImage(qm, sel));
    return path;
  });

/** The pipeline over C boards holding `selections`, star or chain (with the host's embedder when no board embeds). */
async function pipelineOf(
  topology: 'star' | 'chain',
  options: PipelineOptions,
  selections = onHost,
): Promise<Pipeline> {
  const paths = images(selections, `${topology}-${selections.findIndex((s) => s.embedding)}`);
  const boards =
    topology === 'star'
      ? await Promise.all(paths.map((p, i) => spawnPtyBoard(p, { board: i })))
      : await spawnPtyChain(paths);
  running.push(...boards);
  const ends = topology === 'star' ? boards.map((b) => b.path) : [boards[0]!.path, boards.at(-1)!.outPath!];
  const links: Link[] = await Promise.all(
    ends.map(async (p) =>
      ReliableLink.connect(await openSerialPort(p), { expect: { fingerprint: qm.fingerprint } }),
    ),
  );
  expect(links[0]!.peer!.caps.embedding).toBe(false); // board 0 could not embed a TOKEN
  const host = selections.some((s) => s.embedding) ? {} : { embedder };
  return Pipeline.connect(links, pipelinePlan(qm, selections), { ...options, topology, ...host });
}

/** Collects every board's layer hashes per position; `check` compares them with the unsplit engine's. */
function layerHashes() {
  const hashes = new Map<number, number[]>();
  return {
    onHashes: ((e) => {
      const at = hashes.get(e.pos) ?? [];
      for (const [k, h] of e.hashes.entries()) at[e.layerFrom + k] = h;
      hashes.set(e.pos, at);
    }) satisfies PipelineOptions['onHashes'],
    check(tokens: readonly number[]) {
      const engine = QuantEngine.fromModel(qm, { layerHashes: true });
      let token = 1;
      for (const [pos, next] of tokens.entries()) {
        engine.forward(token, pos);
        expect(hashes.get(pos), `position ${pos}`).toEqual([...engine.lastLayerHashes()]);
        token = next;
      }
      hashes.clear();
    },
  };
}

describe('the embedding on the host, through the C boards', () => {
  for (const topology of ['star', 'chain'] as const)
    it(`${topology}, ${split.join('+')} layers: board 0 gets ACTIVATION; tokens and layer hashes equal the unsplit TS run`, async () => {
      const hashes = layerHashes();
      const sentToFirst = new Set<string>();
      const pipeline = await pipelineOf(topology, {
        onHashes: hashes.onHashes,
        onRequest: (e) => {
          if (e.sentTo === 0) sentToFirst.add(e.kind);
        },
      });
      for (const [temperature, seed] of [
        [0, 1],
        [0.8, 42],
      ] as const) {
        const got = await tokensOf(pipeline, { temperature, seed, steps: 64, onBoard: true });
        expect(got).toEqual((await host(temperature, seed, 64, 'spec')).tokens);
        hashes.check(got); // every position's layer hashes (docs/numerics.md §9)
      }
      expect([...sentToFirst]).toEqual(['activation']);
      await pipeline.close();
    }, 120_000);

  it('star, the last board holding the embedding (serve.c answers TOKEN with the row, the host relays it to board 0): tokens and layer hashes equal the unsplit TS run', async () => {
    const hashes = layerHashes();
    const sent = new Set<string>();
    const pipeline = await pipelineOf(
      'star',
      { onHashes: hashes.onHashes, onRequest: (e) => sent.add(`${e.sentTo} ${e.kind}`) },
      onLast,
    );
    for (const [temperature, seed, onBoard] of [
      [0, 1, true],
      [0.8, 42, true],
      [0.8, 7, false],
    ] as const) {
      const got = await tokensOf(pipeline, { temperature, seed, steps: 64, onBoard });
      expect(got).toEqual((await host(temperature, seed, 64, onBoard ? 'spec' : 'platform')).tokens);
      hashes.check(got);
    }
    expect([...sent].sort()).toEqual(['0 activation', '1 activation', '1 token']);
    await pipeline.close();
  }, 120_000);
});
