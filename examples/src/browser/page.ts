/**
 * The browser example's work, with no DOM in it (main.ts is the page around it, and the test runs this
 * in Node against simulated boards): plan a llama2.c checkpoint over N boards, build each board's image,
 * flash them over Web Serial (optional: boards that already hold the plan's images keep them), connect,
 * and stream a story that the last board samples. Everything here comes from browser entries —
 * @tinypipe/core, /partitioner, /flasher, /pipeline and @tinypipe/transport-uart/web — none of which
 * imports Node built-ins (the test bundles this for the browser to prove it).
 */
import { fingerprintHex, quantize, readCheckpoint, readTokenizer } from '@tinypipe/core';
import { boardImage, flashPlan } from '@tinypipe/flasher';
import {
  type BoardManifest,
  buildPlan,
  builtinProfile,
  describeHolding,
  type Plan,
  planModel,
  renderPlanSvg,
} from '@tinypipe/partitioner';
import { connectBoards, type PipelineOptions } from '@tinypipe/pipeline';
import { TinypipeError } from '@tinypipe/protocol';
import { openWebSerialPort, type WebSerialPortLike } from '@tinypipe/transport-uart/web';

export interface PageOptions {
  /** One port per board, in plan order (what `navigator.serial.requestPort()` gave, one click each). */
  ports: readonly WebSerialPortLike[];
  /** The llama2.c checkpoint and its tokenizer, as the user picked them. */
  checkpoint: Uint8Array;
  tokenizer: Uint8Array;
  /** The boards' profile (default esp32s3-n16r8). */
  profile?: string;
  /** Write the plan's images first (the ROM bootloader must be reachable on each port). */
  flash?: boolean;
  prompt?: string;
  steps?: number;
  sampling?: { temperature: number; topp: number; seed: number };
  onStatus?: (line: string) => void;
  onPiece?: (piece: string) => void;
  /** The plan, and its picture (`renderPlanSvg`): before anything is flashed. */
  onPlan?: (plan: Plan, svg: string) => void;
  /** Flashing progress of one board: bytes written (or found already there) of all its regions'. */
  onFlashProgress?: (board: number, done: number, total: number) => void;
  /** Every token as it comes: its piece, position and the ms since the previous one. */
  onToken?: (token: { token: number; piece: string; pos: number; ms: number }) => void;
  /** Every message's round trip as the host times it (send → answer; one board per message here). */
  onRequest?: PipelineOptions['onRequest'];
  /** Once the story is done: per board, its own compute per position (STATS) and the host's round trip. */
  onBoardTiming?: (timing: readonly BoardTiming[]) => void;
  signal?: AbortSignal;
}

export interface BoardTiming {
  board: number;
  positions: number;
  /** Compute per position measured by the board itself (its STATS), ms. */
  computeMs: number;
  /** From the host's send to the board's answer, per message (hops + compute), ms. */
  roundTripMs: number;
}

export interface PageResult {
  tokens: number[];
  text: string;
  tokensPerSecond: number;
}

export async function runPage(o: PageOptions): Promise<PageResult> {
  const status = o.onStatus ?? (() => {});
  const ports = o.ports;
  if (ports.length === 0) throw new TinypipeError('INVALID_ARGUMENT', 'add one serial port per board first');
  // the browser hands out the same SerialPort each time its device is picked
  const twice = ports.findIndex((p, i) => ports.indexOf(p) !== i);
  if (twice >= 0)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `board ${twice}'s serial port is board ${ports.indexOf(ports[twice]!)}'s too: each board needs its own port (reload the page and add them again)`,
    );
  const checkpoint = readCheckpoint(o.checkpoint);
  const c = checkpoint.config;
  const tokenizer = readTokenizer(o.tokenizer, c.vocabSize);
  const qm = quantize(checkpoint, { weights: 'q8' });
  const plan = planModel({
    model: { name: 'checkpoint', source: 'browser', config: c, kind: 'q8', groupSize: 32 },
    boards: ports.map(() => builtinProfile(o.profile ?? 'esp32s3-n16r8')),
    objective: 'latency',
    splitClassifier: false,
  });
  o.onPlan?.(plan, renderPlanSvg(plan));
  for (const b of plan.boards) status(`board ${b.index}: ${describeHolding(b, c.vocabSize)}`);

  // flashed now: the boards must hold this build (its manifests say which); else any images of this plan
  let manifests: BoardManifest[] | undefined;
  if (o.flash) {
    const builds = buildPlan(plan, qm);
    manifests = builds.map((b) => b.manifest);
    const images = builds.map(boardImage);
    // per board: bytes of the regions done, and of the one being written
    const totals = images.map((im) => im.regions.reduce((a, r) => a + r.bytes.length, 0));
    const finished = images.map(() => 0);
    const progress = (board: number, current: number) =>
      o.onFlashProgress?.(board, Math.min(totals[board]!, finished[board]! + current), totals[board]!);
    const transports = await allOrClose(ports.map((port) => openWebSerialPort(port, { baudRate: 115200 })));
    const results = await flashPlan(
      images.map((image, i) => ({ image, port: `board ${i}`, transport: transports[i]! })),
      {
        onEvent: (e) => {
          if (e.kind === 'progress') progress(e.board, e.done);
          else if (e.kind === 'verified') {
            finished[e.board]! += e.bytes;
            progress(e.board, 0);
            status(`board ${e.board}: ${e.region} flashed and verified`);
          }
        },
      },
    ).finally(() => Promise.all(transports.map((t) => t.close().catch(() => {})))); // closed twice is fine
    const failed = results.find((r) => !r.ok);
    if (failed)
      throw failed.error ?? new TinypipeError('FLASH_FAILED', `board ${failed.board} failed to flash`);
  }

  const pipeline = await connectBoards({
    plan,
    ...(manifests ? { manifests } : { fingerprint: qm.fingerprint }),
    open: (board) => openWebSerialPort(ports[board]!, { baudRate: plan.boards[board]!.profile.uartBaud }),
    ...(o.onRequest ? { onRequest: o.onRequest } : {}),
  });
  status(`connected: ${ports.length} board(s) hold model ${fingerprintHex(qm.fingerprint).slice(0, 12)}…`);
  const tokens: number[] = [];
  let text = '';
  const started = performance.now();
  try {
    for await (const t of pipeline.generate({
      tokenizer,
      sampling: o.sampling ?? { temperature: 0.8, topp: 0.9, seed: 1 },
      prompt: o.prompt ?? 'Once upon a time',
      steps: o.steps ?? 200,
      ...(o.signal ? { signal: o.signal } : {}),
    })) {
      tokens.push(t.token);
      text += t.piece;
      o.onPiece?.(t.piece);
      o.onToken?.({ token: t.token, piece: t.piece, pos: t.pos, ms: t.ms });
    }
    if (o.onBoardTiming) {
      const own = await pipeline.boardStats();
      const seen = pipeline.stats();
      o.onBoardTiming(
        own.map((b, i) => ({
          board: i,
          positions: b.forwards,
          computeMs: b.msPerForward,
          roundTripMs: seen[i]!.messages ? seen[i]!.busyMs / seen[i]!.messages : 0,
        })),
      );
    }
  } finally {
    await pipeline.close();
  }
  const tokensPerSecond = tokens.length / ((performance.now() - started) / 1000);
  status(`${tokens.length} tokens, ${tokensPerSecond.toFixed(1)} tok/s`);
  return { tokens, text, tokensPerSecond };
}

/**
 * Every port's transport or link — or, when one fails, its error once the others are closed again: a port
 * left open would refuse the next Run ("already open") until the page is reloaded.
 */
async function allOrClose<T extends { close(): Promise<void> }>(opening: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(opening);
  const failed = settled.find((s) => s.status === 'rejected');
  if (!failed) return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  await Promise.all(
    settled.map((s) => (s.status === 'fulfilled' ? s.value.close().catch(() => {}) : undefined)),
  );
  throw failed.reason;
}
