/**
 * `tinypipe demo --trace run.svg`: a window of a Chrome trace (`chromeTrace`) drawn as a timeline — a row
 * per board with its compute, a row per stream with each position's hops and compute, colours by stream —
 * for a README or an issue, where Perfetto is not at hand. A self-contained SVG string.
 */

import { escapeXml } from '@tinypipe/partitioner';
import { type ChromeTrace, TRACE_BOARDS_PID, TRACE_STREAMS_PID } from '@tinypipe/pipeline';

type Span = Extract<ChromeTrace['traceEvents'][number], { ph: 'X' }>;

export interface TraceSvgOptions {
  /** The window shown, µs from the trace's start. Default: positions 4–7 of stream 0 (or all there is). */
  fromUs?: number;
  toUs?: number;
}

const WIDTH = 900;
const LEFT = 24;
const LABEL_W = 230;
const ROW = 24;
const BAR_H = 16;
const STREAM_COLORS = ['#3b6ea5', '#d08a2e', '#4f9a6a', '#8a5fb0', '#c25450', '#2e9aa0'];
const HOP = '#b8c0ca';

const n = (x: number) => String(Math.round(x * 100) / 100);
const color = (stream: number) => STREAM_COLORS[stream % STREAM_COLORS.length]!;

function defaultWindow(spans: Span[]): [number, number] {
  const rounds = spans.filter((s) => s.cat === 'round' && s.args.stream === 0);
  const shown = rounds.filter((s) => s.args.pos >= 4 && s.args.pos < 8);
  const pick = shown.length ? shown : rounds;
  if (!pick.length) return [0, Math.max(1, ...spans.map((s) => s.ts + s.dur))];
  return [Math.min(...pick.map((s) => s.ts)), Math.max(...pick.map((s) => s.ts + s.dur))];
}

/** The timeline as an SVG document. Spans cut by the window are drawn to its edges. */
export function renderTraceSvg(trace: ChromeTrace, options: TraceSvgOptions = {}): string {
  const spans = trace.traceEvents.flatMap((e) => (e.ph === 'X' ? [e] : []));
  const names = new Map<string, string>();
  for (const e of trace.traceEvents)
    if (e.ph === 'M' && e.name === 'thread_name' && 'name' in e.args)
      names.set(`${e.pid}/${e.tid}`, e.args.name);
  const tracks = [...names.keys()]
    .map((k) => k.split('/').map(Number) as [number, number])
    .filter(([pid]) => pid === TRACE_BOARDS_PID || pid === TRACE_STREAMS_PID)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const [dflFrom, dflTo] = defaultWindow(spans);
  const from = options.fromUs ?? dflFrom;
  const to = Math.max(options.toUs ?? dflTo, from + 1);
  const plotX = LEFT + LABEL_W;
  const plotW = WIDTH - plotX - LEFT;
  const x = (us: number) => plotX + (plotW * (Math.min(Math.max(us, from), to) - from)) / (to - from);
  const top = 86;
  const height = top + tracks.length * ROW + 56;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12" fill="#1f2328">`,
    '<title>tinypipe demo trace</title>',
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="26" font-size="15" font-weight="600">${escapeXml(
      `tinypipe demo: ${trace.otherData.boards ?? '?'} boards (${trace.otherData.topology ?? '?'}), ${trace.otherData.streams ?? '?'} streams — ${((to - from) / 1000).toFixed(2)} ms shown`,
    )}</text>`,
    `<text x="${LEFT}" y="46" font-size="11" fill="#59636e">${escapeXml(
      trace.otherData.tokensPerSecond
        ? `throughput: ${trace.otherData.tokensPerSecond} tok/s measured; predicted ${trace.otherData.predictedTokensPerSecond ?? '?'}`
        : '',
    )}</text>`,
    `<text x="${LEFT}" y="60" font-size="11" fill="#59636e">${escapeXml(`measured ${trace.otherData.measured ?? ''}`)}</text>`,
    `<text x="${LEFT}" y="74" font-size="11" fill="#59636e">${escapeXml(trace.otherData.placed ?? '')}</text>`,
  ];
  for (const [row, [pid, tid]] of tracks.entries()) {
    const y = top + row * ROW;
    out.push(
      `<g class="track" data-pid="${pid}" data-tid="${tid}">`,
      `<rect x="${LEFT}" y="${y}" width="${WIDTH - 2 * LEFT}" height="${ROW - 2}" fill="${row % 2 ? '#ffffff' : '#f6f8fa'}"/>`,
      `<text x="${LEFT + 8}" y="${y + 15}">${escapeXml(names.get(`${pid}/${tid}`)!)}</text>`,
    );
    for (const s of spans) {
      if (s.pid !== pid || s.tid !== tid || s.cat === 'round') continue;
      if (s.ts + s.dur <= from || s.ts >= to) continue;
      const fill = s.cat === 'hop' ? HOP : color(s.args.stream);
      const w = Math.max(0.5, x(s.ts + s.dur) - x(s.ts));
      out.push(
        `<rect class="span" data-cat="${s.cat}" x="${n(x(s.ts))}" y="${y + (ROW - 2 - BAR_H) / 2}" width="${n(w)}" height="${BAR_H}" fill="${fill}"><title>${escapeXml(`${s.name} · stream ${s.args.stream} pos ${s.args.pos} · ${(s.dur / 1000).toFixed(3)} ms`)}</title></rect>`,
      );
    }
    out.push('</g>');
  }
  // the time axis: five ticks, ms from the window's start
  const axisY = top + tracks.length * ROW + 8;
  out.push(`<line x1="${plotX}" y1="${axisY}" x2="${plotX + plotW}" y2="${axisY}" stroke="#59636e"/>`);
  for (let k = 0; k <= 4; k++) {
    const tx = plotX + (plotW * k) / 4;
    out.push(
      `<line x1="${n(tx)}" y1="${axisY}" x2="${n(tx)}" y2="${axisY + 4}" stroke="#59636e"/>`,
      `<text x="${n(tx)}" y="${axisY + 16}" text-anchor="${k === 0 ? 'start' : k === 4 ? 'end' : 'middle'}" font-size="11" fill="#59636e">${(((to - from) * k) / 4 / 1000).toFixed(2)} ms</text>`,
    );
  }
  const ly = axisY + 34;
  const streams = [...new Set(spans.map((s) => s.args.stream))].sort((a, b) => a - b);
  let lx = LEFT;
  for (const [fill, label] of [
    ...streams.map((s) => [color(s), `compute, stream ${s}`] as const),
    [HOP, 'hop (host→board, board→board, board→host)'] as const,
  ]) {
    out.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${fill}"/>`,
      `<text x="${lx + 14}" y="${ly}" font-size="11" fill="#59636e">${escapeXml(label)}</text>`,
    );
    lx += 30 + label.length * 6;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
