import { MODEL_SHAPES } from '@tinypipe/core';
import { describe, expect, it } from 'vitest';
import { describeHolding } from '../plan/format.js';
import { planModel } from '../plan/plan.js';
import type { Plan } from '../plan/schema.js';
import { builtinProfile } from '../profiles/profiles.js';
import { allText, findAll, parseXml, type XmlElement } from '../testing/xml.js';
import { PLAN_SVG_BAR_WIDTH, renderPlanSvg } from './plan-svg.js';

const plan15M = (boards: number): Plan =>
  planModel({
    model: {
      name: 'stories15M',
      source: 'synth:15M',
      config: { ...MODEL_SHAPES['15M'] },
      kind: 'q4',
      groupSize: 32,
    },
    boards: Array.from({ length: boards }, () => builtinProfile('esp32s3-n16r8')),
    objective: 'throughput',
  });

const width = (g: XmlElement, kind: string) => {
  const [bar] = findAll(g, (e) => e.attrs['data-kind'] === kind);
  if (!bar) throw new Error(`no ${kind} bar`);
  return Number(bar.attrs.width);
};

describe('renderPlanSvg', () => {
  it('draws one group per board, with its layers, labels and bars proportional to the plan', () => {
    const plan = plan15M(3);
    const svg = parseXml(renderPlanSvg(plan));
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    const groups = findAll(svg, (e) => e.name === 'g' && e.attrs.class === 'board');
    expect(groups.map((g) => g.attrs['data-board'])).toEqual(['0', '1', '2']);
    const scale = Math.max(
      ...plan.boards.flatMap((b) => [b.predicted.layersMs + b.predicted.classifierMs, b.predicted.linkOutMs]),
    );
    for (const [i, g] of groups.entries()) {
      const b = plan.boards[i]!;
      const held = findAll(g, (e) => e.attrs.class === 'layer held').map((e) =>
        Number(e.attrs['data-layer']),
      );
      expect(held).toEqual(Array.from({ length: b.layers[1] - b.layers[0] }, (_, k) => b.layers[0] + k));
      expect(findAll(g, (e) => e.attrs.class?.startsWith('layer') === true)).toHaveLength(6);
      const words = allText(g);
      expect(words).toContain(`board ${i} · esp32s3-n16r8 · ${describeHolding(b, 32000)}`);
      expect(words).toContain(
        `flash ${(b.imageBytes / 1e6).toFixed(2)} MB of ${(b.partitionBytes / 1e6).toFixed(2)} MB`,
      );
      expect(words).toMatch(/PSRAM [\d.]+ MB of [\d.]+ MB/);
      expect(width(g, 'flash')).toBeCloseTo((PLAN_SVG_BAR_WIDTH * b.imageBytes) / b.partitionBytes, 1);
      const psram = b.profile.psramBytes - b.profile.psramReserveBytes;
      expect(width(g, 'psram')).toBeCloseTo((PLAN_SVG_BAR_WIDTH * b.psramBytes) / psram, 1);
      expect(width(g, 'link-ms') / width(g, 'layers-ms')).toBeCloseTo(
        b.predicted.linkOutMs / b.predicted.layersMs,
        1,
      );
      expect(width(g, 'link-ms')).toBeLessThanOrEqual(
        PLAN_SVG_BAR_WIDTH * (b.predicted.linkOutMs / scale) + 0.01,
      );
      expect(findAll(g, (e) => e.attrs.class === 'embedding')).toHaveLength(b.embedding ? 1 : 0);
    }
    // the busiest figure of any board fills its bar: one scale for all
    const widest = Math.max(
      ...groups.flatMap((g) => [width(g, 'layers-ms') + width(g, 'classifier-ms'), width(g, 'link-ms')]),
    );
    expect(widest).toBeCloseTo(PLAN_SVG_BAR_WIDTH, 0);
    expect(allText(svg)).toContain('predicted');
    expect(allText(svg)).toContain(plan.predicted.label);
  });

  it('is self-contained and the same bytes for the same plan', () => {
    const plan = plan15M(2);
    const a = renderPlanSvg(plan);
    expect(renderPlanSvg(structuredClone(plan))).toBe(a);
    expect(a).not.toMatch(/<script|<image|href=|@import|url\(/);
  });

  it('says "classifier only" for a board holding no layers (and no layer cell filled), and escapes names', () => {
    const plan = plan15M(2);
    const odd: Plan = {
      ...plan,
      model: { ...plan.model, name: 'a<b & "c"' },
      boards: [
        { ...plan.boards[0]!, layers: [0, 6], vocab: null },
        { ...plan.boards[1]!, layers: [6, 6], embedding: false, vocab: [0, plan.model.config.vocabSize] },
      ],
    };
    const svg = parseXml(renderPlanSvg(odd));
    expect(allText(svg)).toContain('a<b & "c"');
    expect(allText(svg)).toContain('board 1 · esp32s3-n16r8 · classifier only');
    const second = findAll(svg, (e) => e.attrs['data-board'] === '1')[0]!;
    expect(findAll(second, (e) => e.attrs.class === 'layer held')).toHaveLength(0);
  });
});

describe('parseXml (the test helper the pictures are checked with)', () => {
  it('refuses what is not well-formed', () => {
    for (const bad of ['<a><b></a>', '<a>x & y</a>', '<a x=1/>', '<a x="1" x="2"/>', '<a/><b/>', '<a>'])
      expect(() => parseXml(bad), bad).toThrow(/XML/);
    expect(parseXml('<a x="&lt;1&gt;">t<b/>u</a>').attrs.x).toBe('<1>');
  });
});

describe('renderPlanSvg: the memory bar', () => {
  it('is the weights from flash plus the KV cache on the same bus: a memory-bound board’s whole time', () => {
    // the PIE what-if: board 0 (six layers + embedding) is memory-bound, so its memory time is its time
    const plan = planModel({
      model: {
        name: 's',
        source: 'synth:15M',
        config: { ...MODEL_SHAPES['15M'] },
        kind: 'q4',
        groupSize: 32,
      },
      boards: [builtinProfile('esp32s3-n16r8'), builtinProfile('esp32s3-n16r8')],
      objective: 'throughput',
      streams: 2,
      kernel: 'optimized',
      splitClassifier: false, // board 1 holds the whole classifier
    });
    const board0 = (p: Plan) =>
      findAll(parseXml(renderPlanSvg(p)), (e) => e.name === 'g' && e.attrs['data-board'] === '0')[0]!;
    const g = board0(plan);
    expect(plan.boards[0]!.predicted.classifierMs).toBe(0);
    expect(width(g, 'streaming-ms')).toBeCloseTo(width(g, 'layers-ms'), 0);
    expect(allText(g)).toMatch(/of which memory \(flash \+ KV cache\)/);
    // a plan from before the KV term (no context) drew its flash bytes only: 1,783,296 KV bytes at 68 MB/s less
    const old = structuredClone(plan);
    delete old.predicted.context;
    const kvWidth = (PLAN_SVG_BAR_WIDTH * (1_783_296 / 68e3)) / plan.boards[1]!.predicted.periodMs;
    expect(width(g, 'streaming-ms') - width(board0(old), 'streaming-ms')).toBeCloseTo(kvWidth, 1);
  });

  it('counts the plan’s KV format: an int8 cache’s bytes, and the heading names it and the host’s embedding', () => {
    const plan = planModel({
      model: {
        name: 's',
        source: 'synth:15M',
        config: { ...MODEL_SHAPES['15M'] },
        kind: 'q4',
        groupSize: 32,
      },
      boards: [builtinProfile('esp32s3-n16r8'), builtinProfile('esp32s3-n16r8')],
      objective: 'throughput',
      kernel: 'optimized', // memory-bound: the memory bar is the board's whole time
      splitClassifier: false,
      kv: 'int8',
      embedding: 'host',
    });
    const svg = parseXml(renderPlanSvg(plan));
    const g = findAll(svg, (e) => e.name === 'g' && e.attrs['data-board'] === '0')[0]!;
    expect(width(g, 'streaming-ms')).toBeCloseTo(width(g, 'layers-ms'), 0);
    expect(allText(svg)).toMatch(/objective throughput, int8 KV, embedding on the host/);
  });
});
