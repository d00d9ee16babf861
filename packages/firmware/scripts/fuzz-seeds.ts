/**
 * Writes the fuzz targets' seed corpora (test/fuzz/corpus/<target>/) and the serve target's images
 * (test/fuzz/data/) from the vectors: docs/vectors/protocol.json, docs/vectors/esp-rom.json and images
 * of a tiny synthetic model built by @tinypipe/core (the image-format vectors' writer). Rerun after a
 * vector changes: `npx tsx scripts/fuzz-seeds.ts` in packages/firmware. Each seed is a file named by
 * what it holds; the input layouts are in each target's header comment (test/fuzz/fuzz_*.c).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, quantize, synthesize } from '@tinypipe/core';
import { fuzzRingImages, fuzzServeImages } from '../ts/fuzz-images.js';
import { ringSeeds } from './fuzz-seeds-ring.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const fuzz = join(here, '..', 'test', 'fuzz');
const protocol = JSON.parse(readFileSync(join(root, 'docs/vectors/protocol.json'), 'utf8'));
const rom = JSON.parse(readFileSync(join(root, 'docs/vectors/esp-rom.json'), 'utf8'));
const hex = (s: string) => Buffer.from(s, 'hex');

function corpus(target: string, seeds: [string, Uint8Array][]): void {
  const dir = join(fuzz, 'corpus', target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of seeds)
    writeFileSync(join(dir, name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)), bytes);
}

// frame: COBS blocks, frames on the wire, corrupt blocks
corpus('frame', [
  ...protocol.cobs.map((v: { encoded: string }, i: number) => [`cobs-${i}`, hex(v.encoded)]),
  ...protocol.frames.map((v: { wire: string }, i: number) => [`frame-${i}`, hex(v.wire)]),
  ...protocol.corrupt.map((v: { name: string; block: string }) => [`corrupt-${v.name}`, hex(v.block)]),
  ['all-frames', Buffer.concat(protocol.frames.map((v: { wire: string }) => hex(v.wire)))],
] as [string, Uint8Array][]);

/** fuzz_link's frame operation: tag 1, type, session, seq, ack, sack, n, payload. */
function linkFrame(
  type: number,
  session: number,
  seq: number,
  ack: number,
  sack: number,
  payload: Uint8Array,
) {
  const h = Buffer.alloc(11);
  h[0] = 1;
  h[1] = (type & 0x80) | ((type & 0x7f) - 1); // bit 7: protocol version 2
  h.writeUInt16LE(session, 2);
  h.writeUInt16LE(seq, 4);
  h.writeUInt16LE(ack, 6);
  h.writeUInt16LE(sack, 8);
  h[10] = Math.min(payload.length, 255);
  return Buffer.concat([h, payload.subarray(0, 255)]);
}
const hostHellos = protocol.hello.filter((v: { info: { role: string } }) => v.info.role === 'host');
const hello = hex(hostHellos[0].bytes);
const boardHello = hex(protocol.hello.find((v: { info: { role: string } }) => v.info.role === 'board').bytes);
const message = (i: number) => hex(protocol.messages[i % protocol.messages.length].bytes);
corpus('link', [
  ...hostHellos.map((v: { bytes: string }, i: number) => [
    `hello-${i}`,
    Buffer.concat([Buffer.from([0]), linkFrame(3, 0x4000, 0, 0, 0, hex(v.bytes))]),
  ]),
  [
    'hello-data-ack',
    Buffer.concat([
      Buffer.from([0]),
      linkFrame(3, 0x4000, 0, 0, 0, hello),
      linkFrame(1, 0x4000, 0, 0, 0, message(0)),
      linkFrame(1, 0x4000, 2, 0, 0, message(1)),
      linkFrame(1, 0x4000, 1, 0, 0, message(2)),
      Buffer.from([3, 4, 4, 2, 100, 2, 250]),
      linkFrame(2, 0x4000, 0, 1, 0, new Uint8Array()),
      linkFrame(5, 0x4000, 0, 0, 0, new Uint8Array()),
    ]),
  ],
  [
    'wire',
    Buffer.concat([Buffer.from([0, 0, protocol.frames[0].wire.length / 2]), hex(protocol.frames[0].wire)]),
  ],
  [
    'opening-accepted-then-silent',
    Buffer.concat([
      Buffer.from([1, 2, 50]),
      linkFrame(4, 0x4000, 0, 0, 0, Buffer.concat([Buffer.from([0]), boardHello])),
      linkFrame(1, 0x4000, 0, 0, 0, message(3)),
      Buffer.from([2, 100, 2, 200, 2, 250, 2, 250, 2, 250]),
    ]),
  ],
  [
    'opening-refused',
    Buffer.concat([Buffer.from([1, 2, 50]), linkFrame(4, 0x4000, 0, 0, 0, Buffer.from([2, ...boardHello]))]),
  ],
  ['version-2', Buffer.concat([Buffer.from([0]), linkFrame(0x83, 0x4000, 0, 0, 0, hello)])],
] as [string, Uint8Array][]);

/** fuzz_serve's send operation: tag 0, n, the message. */
const send = (m: Uint8Array) => Buffer.concat([Buffer.from([0, m.length]), m]);
const tick = Buffer.from([1, 20]);
function token(stream: number, pos: number, t: number) {
  const b = Buffer.alloc(9);
  b[0] = 2;
  b.writeUInt16LE(stream, 1);
  b.writeUInt16LE(pos, 3);
  b.writeUInt32LE(t, 5);
  return b;
}
const start = hex('01010003cdcc4c3f6666663f1032547698badcfe0000'); // START stream 1, hashes + sample
const serveRun = (mode: number) =>
  Buffer.concat([
    Buffer.from([mode]),
    send(start),
    send(token(1, 0, 1)),
    tick,
    send(token(1, 1, 2)),
    tick,
    send(hex('0601000000'.slice(0, 6))),
    tick,
  ]);
corpus('serve', [
  ['single-generate', serveRun(0)],
  ['chain-generate', serveRun(1)],
  [
    'chain-silent-next',
    Buffer.concat([
      serveRun(2),
      Buffer.from([1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250]),
    ]),
  ],
  ['chain-refused-next', serveRun(3)],
  [
    'chain-next-goes-silent',
    Buffer.concat([
      serveRun(1),
      Buffer.from([5, 1]),
      send(token(1, 2, 3)),
      Buffer.from([
        1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250, 1, 250,
      ]),
    ]),
  ],
  ['chain-error-up', Buffer.concat([serveRun(1), Buffer.from([4, 6, 7, 1, 0, 1, 0, 0x41]), tick])],
  ...protocol.messages.map((v: { bytes: string }, i: number) => [
    `message-${i}`,
    Buffer.concat([Buffer.from([i & 1]), send(hex(v.bytes)), tick]),
  ]),
  ['stats', Buffer.concat([Buffer.from([1]), send(hex('08ffff')), tick, tick])],
  ['calibrate', Buffer.concat([Buffer.from([0]), send(hex('09ffff0a00')), tick])],
] as [string, Uint8Array][]);

// image: tiny images of every kind of stage; data: the serve target's images (a two-layer model)
function model(dim: number, hiddenDim: number, vocabSize: number, weights: 'q4' | 'q8', groupSize: number) {
  return quantize(
    synthesize(
      { dim, hiddenDim, nLayers: 2, nHeads: 2, nKvHeads: 2, vocabSize, seqLen: 8, sharedClassifier: false },
      7,
    ),
    { weights, groupSize },
  );
}
const q8 = model(8, 16, 8, 'q8', 8);
const q4 = model(8, 16, 8, 'q4', 8);
corpus('image', [
  ['q8-whole', buildImage(q8, { layers: [0, 2], embedding: true, classifier: true })],
  ['q4-whole', buildImage(q4, { layers: [0, 2], embedding: true, classifier: true })],
  ['q8-head', buildImage(q8, { layers: [0, 1], embedding: true, classifier: false })],
  ['q8-tail-slice', buildImage(q8, { layers: [1, 2], embedding: false, classifier: true })],
  // the compact KV caches (docs/numerics.md §6b): kv_cache.c's store and read-back
  ['q8-whole-kv-fp16', buildImage(q8, { layers: [0, 2], embedding: true, classifier: true }, { kv: 'fp16' })],
  ['q4-whole-kv-int8', buildImage(q4, { layers: [0, 2], embedding: true, classifier: true }, { kv: 'int8' })],
  // board 0's story defaults (docs/image-format.md §4c): image_story.c's record rules
  [
    'q8-head-story',
    buildImage(
      q8,
      { layers: [0, 1], embedding: true, classifier: false },
      { story: { prompt: '1 5 é 7', steps: 8, temperature: 0.5, topp: 0.9, seed: 3, parallel: 2 } },
    ),
  ],
]);
const data = join(fuzz, 'data');
mkdirSync(data, { recursive: true });
for (const [name, bytes] of Object.entries({ ...fuzzServeImages(), ...fuzzRingImages() }))
  writeFileSync(join(data, name), bytes);

// rom: each scenario's packets, SLIP-framed, after the loader byte (1: the stub)
const slip = (p: Uint8Array) => {
  const out = [0xc0];
  for (const b of p) out.push(...(b === 0xc0 ? [0xdb, 0xdc] : b === 0xdb ? [0xdb, 0xdd] : [b]));
  out.push(0xc0);
  return Buffer.from(out);
};
type Step = { send?: string };
const scenarios = [...rom.scenarios, ...(rom.flasher?.scenarios ?? [])] as {
  name: string;
  loader?: string;
  steps: Step[];
}[];
corpus(
  'rom',
  scenarios
    .map((s, i) => {
      const sends = s.steps.filter((st) => typeof st.send === 'string').map((st) => slip(hex(st.send!)));
      return [
        `${i}-${s.loader ?? 'rom'}-${s.name}`,
        Buffer.concat([Buffer.from([s.loader === 'stub' ? 1 : 0]), ...sends]),
      ];
    })
    .filter(([, b]) => (b as Buffer).length > 1) as [string, Uint8Array][],
);

// sampler: mode byte 0 (tp_sample): temperature, topp, seed, logits
function sampler(t: number, p: number, logits: number[]) {
  const b = Buffer.alloc(1 + 16 + 4 * logits.length);
  b.writeFloatLE(t, 1);
  b.writeFloatLE(p, 5);
  b.writeBigUInt64LE(0xfedcba9876543210n, 9);
  for (const [i, v] of logits.entries()) b.writeFloatLE(v, 17 + 4 * i);
  return b;
}
// sampler: mode byte 1 (tp_slice_*): temperature, topp, the host's max, histogram bucket, draw bucket, flags
// (0: the slice's own max, 1: the host's, 2: the larger), cap byte, LEB128 draw target, logits
function slice(
  t: number,
  p: number,
  o: { max?: number; below?: number; bucket?: number; flags?: number; cap?: number; target?: bigint },
  logits: number[],
) {
  const leb: number[] = [];
  for (let v = o.target ?? 0n; ; ) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    leb.push(v ? b | 0x80 : b);
    if (!v) break;
  }
  const b = Buffer.alloc(1 + 19 + leb.length + 4 * logits.length);
  b[0] = 1;
  b.writeFloatLE(t, 1);
  b.writeFloatLE(p, 5);
  b.writeFloatLE(o.max ?? 0, 9);
  b.writeUInt16LE(o.below ?? 0xffff, 13);
  b.writeUInt16LE(o.bucket ?? 0, 15);
  b[17] = o.flags ?? 0;
  b[18] = o.cap ?? 255;
  b[19] = leb.length;
  Buffer.from(leb).copy(b, 20);
  for (const [i, v] of logits.entries()) b.writeFloatLE(v, 20 + leb.length + 4 * i);
  return b;
}
const ramp = Array.from({ length: 32 }, (_, i) => Math.sin(i) * 4);
corpus('sampler', [
  ['argmax', sampler(0, 0.9, ramp)],
  ['multinomial', sampler(1, 1, ramp)],
  ['topp', sampler(0.8, 0.9, ramp)],
  ['topp-tiny', sampler(1, 0.001, ramp)],
  ['nan', sampler(1, 0.9, [1, Number.NaN, 2])],
  ['huge-temperature', sampler(1e30, 0.001, ramp)],
  ['tiny-temperature', sampler(1e-38, 0.5, ramp)],
  ['slice-all', slice(1, 0.9, { target: 1n << 160n }, ramp)],
  ['slice-below', slice(0.8, 0.5, { below: 0x3f0, bucket: 0x3e0, cap: 3, target: 12345n << 100n }, ramp)],
  ['slice-host-max', slice(1, 1, { max: 10, flags: 1, target: (1n << 190n) - 1n }, ramp)],
  ['slice-host-max-low', slice(1, 0.9, { max: -100, flags: 1, bucket: 0xffff }, ramp)],
  ['slice-topp-zero', slice(1, 0, { flags: 2, max: 2, target: 1n }, ramp)],
  [
    'slice-spread',
    slice(1, 0.99, { target: 1n << 170n }, [-200, -100, -50, -20, -87.3, -103.9, 0, 1e-40, -1e-45]),
  ],
  ['slice-temperature-0', slice(0, 0.9, {}, ramp)],
  ['slice-inf', slice(1, 0.9, {}, [1, Number.POSITIVE_INFINITY, 2])],
]);

// ring: fuzz_ring's operations (scripts/fuzz-seeds-ring.ts)
corpus('ring', ringSeeds(token));
