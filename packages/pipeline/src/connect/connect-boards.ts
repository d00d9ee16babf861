/**
 * `connectBoards`: the boards of a plan (and of its build) to a running `Pipeline` in one call — open each
 * board's transport, shake hands (`ReliableLink.connect`, expecting of each board what the plan and the
 * build say it holds), then `Pipeline.fromPlan`. What the CLI's demo, the examples and the browser page do.
 */
import type { BoardManifest, Plan } from '@tinypipe/partitioner';
import { type HelloInfo, type Link, TinypipeError, type Transport } from '@tinypipe/protocol';
import { type ConnectOptions, ReliableLink } from '@tinypipe/transport-uart';
import { type BuildIdentity, identityBytes } from '../pipeline/from-plan.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { PipelineOptions } from '../pipeline/plan.js';
import { hostEmbedder } from './host-embedder.js';

/** Which of a board's UARTs to open: its first (the host's), or in a chain the last board's second one. */
export type BoardUart = 'first' | 'second';

export interface ConnectBoardsOptions extends PipelineOptions {
  /** The plan the boards were flashed from (`tinypipe plan`'s plan.json, `planModel`). */
  plan: Plan;
  /**
   * The build's manifests (one per board, in plan order: `buildPlan(...)[i].manifest`, or each board
   * directory's manifest.json): the model fingerprint and the build id every board must report come from
   * them, and each is checked against the plan.
   */
  manifests?: readonly BoardManifest[] | undefined;
  /** The quantized model's fingerprint (`QuantizedModel.fingerprint`), when there are no manifests. */
  fingerprint?: BuildIdentity['fingerprint'] | undefined;
  /** The build id, when there are no manifests and the boards hold a build's images (else any one build). */
  build?: BuildIdentity['build'];
  /**
   * Opens the transport to `board` (a serial port: `openSerialPort(path)` from
   * `@tinypipe/transport-uart/node`, `openWebSerialPort(port)` from `./web`). Star: every board's first
   * UART. Chain: board 0's first UART and the last board's second.
   */
  open: (board: number, uart: BoardUart) => Promise<Transport>;
  /**
   * The bytes of the build's host.tpimg, for a plan that keeps the embedding on the host (`embedding:
   * 'host'`: no board holds it). It becomes the pipeline's `embedder` (`hostEmbedder`), checked against the
   * model, the build id and the SHA-256 a manifest's `host` entry records. Or give `embedder` yourself.
   */
  hostImage?: Uint8Array | undefined;
  /** Options of every `ReliableLink.connect` (rate, handshake timeout…); `expect` comes from the plan. */
  link?: Omit<ConnectOptions, 'expect'> | undefined;
}

/**
 * Opens the links to the boards of `plan` and returns the pipeline over them. Each link's handshake
 * expects its board's index, the model's fingerprint, the plan's layers and classifier rows for it and,
 * when known, the build id: a board flashed with something else is refused there (WRONG_MODEL,
 * MIXED_BUILD) naming it. When a board cannot be opened or refuses, every link already opened is closed
 * again (a port left open refuses the next attempt) and the first error is thrown.
 */
export async function connectBoards(options: ConnectBoardsOptions): Promise<Pipeline> {
  const {
    plan,
    manifests,
    open,
    link: linkOptions,
    fingerprint,
    build,
    hostImage,
    ...pipelineOptions
  } = options;
  const identity = identityOf(plan, manifests, fingerprint, build);
  const fp = identityBytes(identity.fingerprint, 32, 'model fingerprint');
  const id = identity.build === undefined ? undefined : identityBytes(identity.build, 8, 'build id');
  if (!plan.boards.some((b) => b.embedding) && !pipelineOptions.embedder) {
    // the embedding on the host (the plan's `embedding: 'host'`): its image, checked before any port opens
    if (!hostImage)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        "this plan keeps the embedding on the host (no board holds it): give `hostImage`, the bytes of the build's host.tpimg, or `embedder`",
      );
    const sha256 = manifests?.map((m) => (m as { host?: { sha256?: string } }).host?.sha256).find(Boolean);
    pipelineOptions.embedder = hostEmbedder(hostImage, { fingerprint: fp, build: id, sha256 });
  }
  const last = plan.boards.length - 1;
  const ends: { board: number; uart: BoardUart }[] =
    pipelineOptions.topology === 'chain'
      ? [
          { board: 0, uart: 'first' },
          { board: last, uart: 'second' },
        ]
      : plan.boards.map((_, board) => ({ board, uart: 'first' }));
  const expectOf = (board: number): ConnectOptions['expect'] => {
    const b = plan.boards[board]!;
    const expect: Partial<HelloInfo> = {
      board,
      fingerprint: fp,
      layers: [b.layers[0], b.layers[1]],
      vocab: b.vocab ? [b.vocab[0], b.vocab[1]] : [0, 0],
    };
    if (id) expect.build = id;
    return expect;
  };
  const links = await allOrClose(
    ends.map(async ({ board, uart }) =>
      ReliableLink.connect(await open(board, uart), { ...linkOptions, expect: expectOf(board) }),
    ),
  );
  try {
    return Pipeline.fromPlan(plan, links, { ...pipelineOptions, fingerprint: fp, build: id });
  } catch (e) {
    await closeAll(links);
    throw e;
  }
}

/** The fingerprint and build the boards must report: from the manifests (checked against the plan) or as given. */
function identityOf(
  plan: Plan,
  manifests: readonly BoardManifest[] | undefined,
  fingerprint: BuildIdentity['fingerprint'] | undefined,
  build: BuildIdentity['build'],
): BuildIdentity {
  if (!manifests) {
    if (fingerprint === undefined)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        "connectBoards needs the build's manifests or the model's fingerprint (QuantizedModel.fingerprint)",
      );
    return { fingerprint, build };
  }
  if (manifests.length !== plan.boards.length)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `the plan has ${plan.boards.length} boards, ${manifests.length} manifests were given: give each board's manifest, in plan order`,
    );
  const first = manifests[0]!;
  for (const [i, m] of manifests.entries()) {
    const b = plan.boards[i]!;
    const wrong: string[] = [];
    if (m.board !== i) wrong.push(`it is board ${m.board}'s`);
    if (m.layers[0] !== b.layers[0] || m.layers[1] !== b.layers[1])
      wrong.push(`layers [${m.layers.join(', ')}), the plan's [${b.layers.join(', ')})`);
    if ((m.vocab?.join() ?? '') !== (b.vocab?.join() ?? ''))
      wrong.push('classifier rows differ from the plan');
    if (m.build !== first.build) wrong.push(`build ${m.build}, board 0's is ${first.build}`);
    if (m.fingerprint !== first.fingerprint) wrong.push("another model than board 0's");
    if (wrong.length)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `manifest ${i} is not board ${i} of this plan's build (${wrong.join('; ')}): give the manifests of the build made from this plan, in board order`,
        { details: { board: i } },
      );
  }
  const hex = (b: Uint8Array | string) =>
    typeof b === 'string' ? b.toLowerCase() : Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  if (fingerprint !== undefined && hex(fingerprint) !== first.fingerprint.toLowerCase())
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `the fingerprint given (${hex(fingerprint).slice(0, 16)}…) is not the manifests' (${first.fingerprint.slice(0, 16)}…): the build holds another model`,
    );
  if (build !== undefined && hex(build) !== first.build.toLowerCase())
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `the build id given (${hex(build)}) is not the manifests' (${first.build})`,
    );
  return { fingerprint: first.fingerprint, build: first.build };
}

async function closeAll(links: readonly Link[]): Promise<void> {
  await Promise.all(links.map((l) => l.close().catch(() => {})));
}

/** Every link — or, when one fails, its error once the others are closed again. */
async function allOrClose(opening: Promise<Link>[]): Promise<Link[]> {
  const settled = await Promise.allSettled(opening);
  const failed = settled.find((s) => s.status === 'rejected');
  const opened = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (!failed) return opened;
  await closeAll(opened);
  throw failed.reason;
}
