/**
 * Flash throughput against virtual ESP32-S3 boards on PTYs (the figure): a stories15M q4
 * single-board image (8.6 MB) + partition table, to one board alone, then to four in parallel — through
 * the ROM loader (1 KiB blocks) and through esptool-js's stub (16 KiB blocks).
 * PTYs have no line rate, so this measures the flasher and the virtual ROM (compression, inflate, MD5),
 * not a UART: on hardware the line (e.g. 921,600 baud ≈ 90 KB/s of compressed data) is the limit.
 * Run: npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, quantize, synthesize } from '@tinypipe/core';
import { spawnPtyBoard } from '@tinypipe/firmware';
import { boardPartitions, partitionTableBinary } from '@tinypipe/partitioner';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { type BoardImage, flashPlan, type StubImage } from '../src/index.js';
import { loadStub } from '../src/node/stub-file.js';

const qm = quantize(synthesize('15M', 1), { weights: 'q4' });
const image = buildImage(qm, { layers: [0, 6], embedding: true, classifier: true });
const flashBytes = 16 * 1048576;
const table = boardPartitions(flashBytes);
const regions = [
  { name: 'partition-table.bin', offset: 0x8000, bytes: partitionTableBinary(table, flashBytes) },
  { name: 'model.img', offset: 0x1f0000, bytes: image },
];
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-flash-bench-'));

async function run(n: number, stub?: StubImage): Promise<void> {
  const boards = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnPtyBoard(undefined, {
        flash: join(tmp, `${n}-${stub ? 'stub' : 'rom'}-${i}.flash`),
        flashSize: flashBytes,
      }),
    ),
  );
  const targets = await Promise.all(
    boards.map(async (b, i) => ({
      image: { board: i, chip: 'esp32s3', flashBytes, regions } satisfies BoardImage,
      port: b.path,
      transport: await openSerialPort(b.path),
    })),
  );
  const started = performance.now();
  const results = await flashPlan(targets, { stub });
  const seconds = (performance.now() - started) / 1000;
  const total = results.reduce((a, r) => a + r.bytesWritten, 0);
  const per = results.map((r) => r.bytesWritten / (r.ms / 1000) / 1e6);
  console.log(
    `${n} board(s), ${stub ? 'stub' : 'ROM '}: ${(total / 1e6).toFixed(1)} MB written and verified in ${seconds.toFixed(2)} s — ` +
      `${(total / seconds / 1e6).toFixed(2)} MB/s together, ${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)} MB/s per board` +
      `${results.every((r) => r.ok) ? '' : ' (FAILED)'}`,
  );
  await Promise.all(boards.map((b) => b.kill()));
}

try {
  const stub = await loadStub('esptool-js');
  await run(1);
  await run(1, stub);
  await run(4);
  await run(4, stub);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
