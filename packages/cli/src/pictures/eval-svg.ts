/**
 * `tinypipe eval --svg`: the quality table as a small chart — per quantization, its top-1 agreement with
 * fp32 (of 100 %), its mean KL from fp32 and its perplexity next to fp32's. A self-contained SVG string,
 * the same bytes for the same figures.
 */
import type { EvaluateReport } from '@tinypipe/core';
import { escapeXml } from '@tinypipe/partitioner';

export interface EvalChartInput {
  model: string;
  steps: number;
  prompts: number;
  rows: readonly (EvaluateReport & { weights: string; groupSize: number })[];
}

/** Width of a bar at 100 % (SVG user units). */
export const EVAL_SVG_BAR_WIDTH = 360;

const WIDTH = 720;
const LEFT = 24;
const BAR_X = 300;
const ROW = 22;
const BAR_H = 14;
const HEADER = 64;
const GROUP_H = ROW * 4 + 30;
const COLORS = { track: '#e4e8ee', agree: '#4f9a6a', kl: '#c25450', fp32: '#9aa4b1', quant: '#3b6ea5' };

const n = (x: number) => String(Math.round(x * 100) / 100);

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(s)}</text>`;
}

function bar(y: number, fraction: number, fill: string, kind: string): string {
  const w = EVAL_SVG_BAR_WIDTH * Math.max(0, Math.min(1, fraction));
  return (
    `<rect x="${BAR_X}" y="${n(y)}" width="${EVAL_SVG_BAR_WIDTH}" height="${BAR_H}" fill="${COLORS.track}"/>` +
    `<rect class="bar" data-kind="${kind}" x="${BAR_X}" y="${n(y)}" width="${n(w)}" height="${BAR_H}" fill="${fill}"/>`
  );
}

/** The chart as an SVG document. KL bars share the largest KL as 100 %, perplexity bars the largest perplexity. */
export function renderEvalSvg(input: EvalChartInput): string {
  const klScale = Math.max(...input.rows.map((r) => r.meanKL), 1e-12);
  const pplScale = Math.max(
    ...input.rows.flatMap((r) => [r.perplexity.reference, r.perplexity.candidate]),
    1e-12,
  );
  const height = HEADER + input.rows.length * GROUP_H + 8;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12" fill="#1f2328">`,
    `<title>${escapeXml(`${input.model}: quantized weights vs fp32`)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(LEFT, 26, `${input.model}: quantized weights vs fp32`, 'font-size="15" font-weight="600"'),
    text(
      LEFT,
      46,
      `${input.prompts} prompts continued greedily by fp32 to ${input.steps} positions; higher agreement, lower KL and perplexity are better`,
      'fill="#59636e" font-size="11"',
    ),
  ];
  for (const [i, r] of input.rows.entries()) {
    const top = HEADER + i * GROUP_H;
    const y = (row: number) => top + 26 + row * ROW;
    const label = (row: number, s: string) => text(LEFT + 12, y(row) + 11, s);
    out.push(
      `<g class="quant" data-weights="${escapeXml(r.weights)}" data-group-size="${r.groupSize}">`,
      `<rect x="${LEFT}" y="${top + 4}" width="${WIDTH - 2 * LEFT}" height="${GROUP_H - 10}" rx="6" fill="#f6f8fa"/>`,
      text(
        LEFT + 12,
        top + 22,
        `${r.weights} (group ${r.groupSize}) · ${r.positions} positions`,
        'font-weight="600"',
      ),
      label(0, `top-1 agreement ${(100 * r.top1Agreement).toFixed(1)} %`),
      bar(y(0), r.top1Agreement, COLORS.agree, 'top1'),
      label(1, `mean KL ${r.meanKL.toFixed(4)} nats`),
      bar(y(1), r.meanKL / klScale, COLORS.kl, 'kl'),
      label(2, `perplexity fp32 ${r.perplexity.reference.toFixed(3)}`),
      bar(y(2), r.perplexity.reference / pplScale, COLORS.fp32, 'ppl-fp32'),
      label(3, `perplexity ${r.weights} ${r.perplexity.candidate.toFixed(3)}`),
      bar(y(3), r.perplexity.candidate / pplScale, COLORS.quant, 'ppl-quant'),
      '</g>',
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
