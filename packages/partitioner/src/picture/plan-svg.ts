/**
 * A plan as a picture: one row group per board — the layers it holds (and the embedding, its classifier
 * rows), flash and PSRAM used against what the board offers, and its predicted time per token (compute,
 * the memory traffic inside it — weights from flash, KV cache in PSRAM on the same bus —, the outgoing link). A self-contained SVG string (no fonts, scripts or
 * links to fetch), the same bytes for the same plan, so a generated picture can be committed and diffed.
 */
import { classifierWork, layerWork, psramMBps } from '../cost/cost.js';
import { describeHolding } from '../plan/format.js';
import type { Plan } from '../plan/schema.js';

/** Width of every bar at 100 % (SVG user units); bars are proportional to it. */
export const PLAN_SVG_BAR_WIDTH = 480;

const WIDTH = 800;
const LEFT = 24;
const BAR_X = 280;
const ROW = 22;
const BAR_H = 14;
const HEADER = 80;
const BOARD_H = ROW * 7 + 34;

const COLORS = {
  layer: '#3b6ea5',
  empty: '#e4e8ee',
  embedding: '#8a5fb0',
  classifier: '#d08a2e',
  flash: '#3b6ea5',
  psram: '#4f9a6a',
  layersMs: '#3b6ea5',
  classifierMs: '#d08a2e',
  streaming: '#9bb6d6',
  link: '#c25450',
  text: '#1f2328',
  muted: '#59636e',
} as const;

/** XML text and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/** A number as SVG writes it: at most two decimals, no trailing zeros (deterministic across runs). */
const n = (x: number) => String(Math.round(x * 100) / 100);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const msText = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const int = (x: number) => x.toLocaleString('en-US');

function rect(x: number, y: number, w: number, h: number, fill: string, attrs = ''): string {
  return `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="${fill}"${attrs ? ` ${attrs}` : ''}/>`;
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(s)}</text>`;
}

/**
 * Per board: the ms its memory traffic takes per token — its weights from flash, and its KV cache in PSRAM
 * on the same bus (plans that state a context; earlier plans counted no KV traffic) — inside its time.
 */
function streamingMs(plan: Plan, b: Plan['boards'][number]): number {
  const model = { config: plan.model.config, kind: plan.model.kind, groupSize: plan.model.groupSize };
  const work = layerWork(model, b.layers[1] - b.layers[0], b.embedding, plan.kv);
  let bytes = work.bytes;
  if (b.vocab) bytes += classifierWork(model, b.vocab).bytes;
  const kv = plan.predicted.context === undefined ? 0 : work.kvBytes;
  return bytes / (b.profile.flashMBps * 1e3) + kv / (psramMBps(b.profile) * 1e3);
}

/** One bar of a row: its track (the 100 % width), the filled part, and a name for tests and tools. */
function bar(y: number, fraction: number, fill: string, kind: string, title: string): string {
  const w = PLAN_SVG_BAR_WIDTH * Math.max(0, Math.min(1, fraction));
  return [
    rect(BAR_X, y, PLAN_SVG_BAR_WIDTH, BAR_H, COLORS.empty),
    `<rect class="bar" data-kind="${kind}" x="${BAR_X}" y="${n(y)}" width="${n(w)}" height="${BAR_H}" fill="${fill}"><title>${escapeXml(title)}</title></rect>`,
  ].join('');
}

/**
 * The plan as an SVG document (a string). Bars of bytes are fractions of what the board offers (its
 * model partition, its PSRAM less the reserve); bars of time share one scale, the slowest figure of any
 * board. Every figure is the plan's own prediction and the picture says so.
 */
export function renderPlanSvg(plan: Plan): string {
  const c = plan.model.config;
  const rows = plan.boards.map((b) => ({
    b,
    computeMs: b.predicted.layersMs + b.predicted.classifierMs,
    streamMs: streamingMs(plan, b),
    psramOffered: Math.max(0, b.profile.psramBytes - b.profile.psramReserveBytes),
  }));
  const scaleMs = Math.max(...rows.flatMap((r) => [r.computeMs, r.streamMs, r.b.predicted.linkOutMs]), 1e-9);
  const height = HEADER + rows.length * BOARD_H + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12" fill="${COLORS.text}">`,
    `<title>${escapeXml(`${plan.model.name} ${plan.model.kind} on ${plan.boards.length} board(s)`)}</title>`,
    rect(0, 0, WIDTH, height, '#ffffff'),
    text(
      LEFT,
      26,
      `${plan.model.name} ${plan.model.kind} (group ${plan.model.groupSize}) on ${plan.boards.length} board(s) — ${plan.streams} stream(s), objective ${plan.objective}, ${plan.kv} KV${plan.embedding === 'host' ? ', embedding on the host' : ''}`,
      'font-size="15" font-weight="600"',
    ),
    text(
      LEFT,
      46,
      `predicted ${plan.predicted.tokensPerSecond.toFixed(2)} tok/s, ${msText(plan.predicted.latencyMs)} per token, slowest board ${msText(plan.predicted.bottleneckMs)}`,
      `fill="${COLORS.muted}"`,
    ),
    text(LEFT, 64, plan.predicted.label, `fill="${COLORS.muted}" font-size="11"`),
  ];
  for (const [i, { b, computeMs, streamMs, psramOffered }] of rows.entries()) {
    const top = HEADER + i * BOARD_H;
    const y = (row: number) => top + 26 + row * ROW;
    const label = (row: number, s: string) => text(LEFT + 12, y(row) + 11, s);
    const g: string[] = [
      `<g class="board" data-board="${b.index}" data-profile="${escapeXml(b.profile.name)}">`,
      rect(LEFT, top + 4, WIDTH - 2 * LEFT, BOARD_H - 10, '#f6f8fa', 'rx="6"'),
      text(
        LEFT + 12,
        top + 22,
        `board ${b.index} · ${b.profile.name} · ${describeHolding(b, c.vocabSize)} · busy ${msText(b.predicted.periodMs)} per token`,
        'font-weight="600"',
      ),
    ];
    // the layers: one cell per layer of the model, filled where this board holds it
    const cell = PLAN_SVG_BAR_WIDTH / Math.max(1, c.nLayers);
    g.push(
      label(0, `layers ${b.layers[1] - b.layers[0]} of ${c.nLayers}${b.embedding ? ' + embedding' : ''}`),
    );
    for (let l = 0; l < c.nLayers; l++) {
      const held = l >= b.layers[0] && l < b.layers[1];
      g.push(
        rect(
          BAR_X + l * cell + 1,
          y(0),
          cell - 2,
          BAR_H,
          held ? COLORS.layer : COLORS.empty,
          `class="layer${held ? ' held' : ''}" data-layer="${l}"`,
        ),
      );
      if (cell >= 18)
        g.push(
          text(
            BAR_X + l * cell + cell / 2,
            y(0) + 11,
            String(l),
            `text-anchor="middle" font-size="10" fill="${held ? '#ffffff' : COLORS.muted}"`,
          ),
        );
    }
    if (b.embedding) g.push(rect(BAR_X - 14, y(0), 10, BAR_H, COLORS.embedding, 'class="embedding"'));
    // the classifier rows it holds, as a slice of the vocabulary
    const v = b.vocab ?? [0, 0];
    g.push(
      label(1, b.vocab ? `classifier rows ${int(v[1] - v[0])} of ${int(c.vocabSize)}` : 'classifier: none'),
      rect(BAR_X, y(1), PLAN_SVG_BAR_WIDTH, BAR_H, COLORS.empty),
      `<rect class="bar" data-kind="vocab" x="${n(BAR_X + (PLAN_SVG_BAR_WIDTH * v[0]) / c.vocabSize)}" y="${n(y(1))}" width="${n((PLAN_SVG_BAR_WIDTH * (v[1] - v[0])) / c.vocabSize)}" height="${BAR_H}" fill="${COLORS.classifier}"/>`,
      label(2, `flash ${mb(b.imageBytes)} of ${mb(b.partitionBytes)}`),
      bar(y(2), b.imageBytes / b.partitionBytes, COLORS.flash, 'flash', 'weight image / model partition'),
      label(3, `PSRAM ${mb(b.psramBytes)} of ${mb(psramOffered)}`),
      bar(
        y(3),
        psramOffered ? b.psramBytes / psramOffered : 1,
        COLORS.psram,
        'psram',
        'KV caches and buffers / PSRAM less the reserve',
      ),
      label(4, `compute ${msText(computeMs)}`),
      rect(BAR_X, y(4), PLAN_SVG_BAR_WIDTH, BAR_H, COLORS.empty),
      `<rect class="bar" data-kind="layers-ms" x="${BAR_X}" y="${n(y(4))}" width="${n((PLAN_SVG_BAR_WIDTH * b.predicted.layersMs) / scaleMs)}" height="${BAR_H}" fill="${COLORS.layersMs}"><title>layers ${escapeXml(msText(b.predicted.layersMs))}</title></rect>`,
      `<rect class="bar" data-kind="classifier-ms" x="${n(BAR_X + (PLAN_SVG_BAR_WIDTH * b.predicted.layersMs) / scaleMs)}" y="${n(y(4))}" width="${n((PLAN_SVG_BAR_WIDTH * b.predicted.classifierMs) / scaleMs)}" height="${BAR_H}" fill="${COLORS.classifierMs}"><title>classifier ${escapeXml(msText(b.predicted.classifierMs))}</title></rect>`,
      label(5, `of which memory (flash + KV cache) ${msText(streamMs)}`),
      bar(
        y(5),
        streamMs / scaleMs,
        COLORS.streaming,
        'streaming-ms',
        'reading the weights from flash and the KV cache from PSRAM, on one bus (overlaps the compute)',
      ),
      label(6, `link out ${msText(b.predicted.linkOutMs)}`),
      bar(
        y(6),
        b.predicted.linkOutMs / scaleMs,
        COLORS.link,
        'link-ms',
        'sending its output (activation, token or logits)',
      ),
      '</g>',
    );
    out.push(g.join('\n'));
  }
  const ly = HEADER + rows.length * BOARD_H + 16;
  const legend: [string, string][] = [
    [COLORS.layersMs, 'layers'],
    [COLORS.classifierMs, 'classifier'],
    [COLORS.streaming, 'memory (flash + KV cache)'],
    [COLORS.link, 'outgoing link'],
    [COLORS.embedding, 'embedding'],
  ];
  let lx = LEFT;
  for (const [fill, name] of legend) {
    out.push(
      rect(lx, ly, 10, 10, fill),
      text(lx + 14, ly + 9, name, `fill="${COLORS.muted}" font-size="11"`),
    );
    lx += 24 + name.length * 6;
  }
  out.push(
    text(
      WIDTH - LEFT,
      ly + 9,
      `time bars: 100 % = ${msText(scaleMs)}`,
      `text-anchor="end" fill="${COLORS.muted}" font-size="11"`,
    ),
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
