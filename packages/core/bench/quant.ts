/**
 * `npm run bench` (core): tokens/s of the TypeScript quantized engine (the firmware's numerics) on
 * stories260K and a synthetic stories15M, q4 and q8, and the weight bytes a board streams per token:
 * every layer matrix and the classifier (int data + fp16 scales), the norms, and one embedding row.
 * Each row: the JavaScript reference kernels (js) and the WebAssembly SIMD kernels (wasm, the same bits),
 * medians of BENCH_PAIRS (default 5) pairs run one after the other.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  argmax,
  type Checkpoint,
  QuantEngine,
  type QuantizedModel,
  type QuantTensor,
  quantize,
  readCheckpoint,
  synthesize,
} from '../src/index.js';

const bytesOf = (t: QuantTensor) => t.data.byteLength + t.scales.byteLength;

export function quantBytesPerToken(qm: QuantizedModel): number {
  const c = qm.config;
  let total = 0;
  for (const l of qm.layers)
    total +=
      bytesOf(l.wq) +
      bytesOf(l.wk) +
      bytesOf(l.wv) +
      bytesOf(l.wo) +
      bytesOf(l.w1) +
      bytesOf(l.w2) +
      bytesOf(l.w3);
  total += bytesOf(qm.wcls);
  total += 4 * c.dim * (2 * c.nLayers + 1); // norms
  const e = qm.tokenEmbedding;
  total += bytesOf(e) / e.rows; // one embedding row
  return Math.round(total);
}

function measure(engine: QuantEngine, steps: number): number {
  let token = argmax(engine.forward(1, 0)); // position 0 not timed (as run.c)
  const t0 = performance.now();
  for (let pos = 1; pos < steps; pos++) token = argmax(engine.forward(token, pos));
  return ((steps - 1) * 1000) / (performance.now() - t0);
}

const stories260K = readCheckpoint(
  new Uint8Array(readFileSync(fileURLToPath(new URL('../../../models/stories260K.bin', import.meta.url)))),
);
const cases: [string, Checkpoint, number][] = [
  ['stories260K', stories260K, 256],
  ['synthetic 15M', synthesize('15M', 1), 48],
];
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
const pairsWanted = Math.max(1, Number(process.env.BENCH_PAIRS ?? 5));
const rows: Record<string, unknown>[] = [];
for (const [name, checkpoint, steps] of cases) {
  for (const kind of ['q8', 'q4'] as const) {
    const qm = quantize(checkpoint, { weights: kind, groupSize: 32 });
    const js = QuantEngine.fromModel(qm, { kernels: 'js' });
    const wasm = QuantEngine.fromModel(qm, { kernels: 'wasm' });
    const pairs: { js: number; wasm: number }[] = [];
    for (let p = 0; p < pairsWanted; p++) {
      // the order alternates between pairs
      const first = p % 2 ? measure(wasm, steps) : measure(js, steps);
      const second = p % 2 ? measure(js, steps) : measure(wasm, steps);
      pairs.push(p % 2 ? { js: second, wasm: first } : { js: first, wasm: second });
    }
    rows.push({
      model: name,
      weights: kind,
      steps,
      kernels: wasm.kernels,
      tsQuantJsTokPerS: Number(median(pairs.map((p) => p.js)).toFixed(1)),
      tsQuantWasmTokPerS: Number(median(pairs.map((p) => p.wasm)).toFixed(1)),
      wasmOverJs: Number(median(pairs.map((p) => p.wasm / p.js)).toFixed(3)),
      weightBytesPerToken: quantBytesPerToken(qm),
    });
  }
}
console.log(
  `quantized engine (TypeScript, docs/numerics.md, one thread, greedy from BOS, group 32): medians of ${pairsWanted} pairs`,
);
console.log(
  `${'model'.padEnd(16)}${'weights'.padEnd(9)}${'js tok/s'.padStart(10)}${'wasm tok/s'.padStart(12)}${'wasm/js'.padStart(9)}${'weights B/token'.padStart(18)}`,
);
for (const r of rows) {
  console.log(
    `${String(r.model).padEnd(16)}${String(r.weights).padEnd(9)}${String(r.tsQuantJsTokPerS).padStart(10)}${String(r.tsQuantWasmTokPerS).padStart(12)}${String(r.wasmOverJs).padStart(9)}${(r.weightBytesPerToken as number).toLocaleString('en-US').padStart(18)}`,
  );
}
console.log(JSON.stringify({ bench: 'core-quant', rows }));
