/**
 * What the page shows while page.ts works: the plan's picture, one flash progress bar per board, the story
 * as its tokens come, and per board its timing once the story is done. Plain DOM, no framework; every
 * element it fills is in index.html, so the page reads as a whole there.
 */
import { describeHolding } from '@tinypipe/partitioner';
import type { BoardTiming, PageOptions } from './page.js';

type Handlers = Required<
  Pick<PageOptions, 'onPlan' | 'onFlashProgress' | 'onToken' | 'onRequest' | 'onBoardTiming' | 'onStatus'>
>;

export interface View extends Handlers {
  /** Empties the picture, the boards, the story and the figures for a new run. */
  reset(): void;
}

function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string> = {},
  text = '',
): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

export function createView(doc: Document): View {
  const $ = (id: string) => doc.getElementById(id)!;
  const boards = new Map<number, { bar: HTMLProgressElement; percent: HTMLElement; timing: HTMLElement }>();
  let tokens = 0;
  let ms = 0;
  /** Per board while the story streams: messages and their round trips summed (the host's clock). */
  const trips = new Map<number, { n: number; ms: number }>();

  return {
    reset() {
      $('plan').innerHTML = '';
      $('boards').replaceChildren();
      $('story').textContent = '';
      $('rate').textContent = '';
      boards.clear();
      trips.clear();
      tokens = 0;
      ms = 0;
    },
    onStatus(line) {
      $('log').textContent += `${line}\n`;
    },
    onPlan(plan, svg) {
      $('plan').innerHTML = svg; // renderPlanSvg escapes every text it writes
      for (const b of plan.boards) {
        const card = el(doc, 'li', { class: 'board', 'data-board': String(b.index) });
        card.append(
          el(doc, 'strong', {}, `board ${b.index}`),
          el(doc, 'span', { class: 'holds' }, describeHolding(b, plan.model.config.vocabSize)),
        );
        const bar = el(doc, 'progress', { class: 'flash', max: '100', value: '0' });
        const percent = el(doc, 'span', { class: 'percent' }, 'not flashed');
        const timing = el(doc, 'span', { class: 'timing' }, '');
        card.append(bar, percent, timing);
        $('boards').append(card);
        boards.set(b.index, { bar, percent, timing });
      }
    },
    onFlashProgress(board, done, total) {
      const b = boards.get(board);
      if (!b) return;
      const p = total ? Math.round((100 * done) / total) : 100;
      b.bar.value = p;
      b.percent.textContent = `${p} %`;
    },
    onToken(t) {
      tokens++;
      ms += t.ms;
      const span = el(doc, 'span', { class: 'token', title: `position ${t.pos}, ${t.ms.toFixed(1)} ms` });
      span.textContent = t.piece;
      $('story').append(span);
      $('rate').textContent = `${tokens} tokens · ${((1000 * tokens) / Math.max(ms, 1e-9)).toFixed(1)} tok/s`;
    },
    onRequest(r) {
      const t = trips.get(r.answeredBy) ?? { n: 0, ms: 0 };
      t.n++;
      t.ms += r.answeredAt - r.sentAt;
      trips.set(r.answeredBy, t);
      const b = boards.get(r.answeredBy);
      if (b) b.timing.textContent = `${(t.ms / t.n).toFixed(2)} ms round trip per position (so far)`;
    },
    onBoardTiming(timing: readonly BoardTiming[]) {
      for (const t of timing) {
        const b = boards.get(t.board);
        if (b)
          b.timing.textContent = `${t.computeMs.toFixed(2)} ms compute · ${t.roundTripMs.toFixed(2)} ms round trip per position`;
      }
    },
  };
}
