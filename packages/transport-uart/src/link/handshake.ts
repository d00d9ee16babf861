/**
 * The HELLO handshake (docs/protocol.md §4.1): the host sends HELLO until a HELLO_ACK answers; the board
 * answers every HELLO and accepts the first host it can serve. Both ends check the other with core's
 * `checkHello` (protocol, model, build): PROTOCOL_MISMATCH, WRONG_MODEL, MIXED_BUILD, or TIMEOUT.
 */
import {
  checkHello,
  type DropReason,
  decodeHello,
  type Frame,
  FrameType,
  HELLO_BYTES,
  HELLO_PROTOCOL,
  HELLO_V1_BYTES,
  type HelloInfo,
  HelloStatus,
  helloStatusOf,
  MAX_PAYLOAD,
  PROTOCOL_VERSION,
  TinypipeError,
} from '@tinypipe/protocol';
import { helloAckFrame, helloFrame } from './frames.js';
import type { Line } from './line.js';

export interface HostHandshakeOptions {
  /** What the host expects of the board; anything left out is accepted as it is. */
  expect?: Partial<Pick<HelloInfo, 'board' | 'fingerprint' | 'layers' | 'vocab' | 'build'>>;
  /** Line rate to switch to after the handshake, if the transport and the board can (§4.3). */
  baud?: number;
  /** HELLO is resent this often until answered (ms). Default 100. */
  helloIntervalMs?: number;
  /** No HELLO_ACK within this long (ms) → TIMEOUT. Default 2000. */
  handshakeTimeoutMs?: number;
}

export interface BoardHandshakeOptions {
  /** Called for every HELLO the board refuses (it keeps waiting for an acceptable one). */
  onRefused?: (error: TinypipeError) => void;
  /** The rate to accept when the host proposes one (return 0 to keep the current rate). Default: keep. */
  acceptBaud?: (proposed: number) => number;
}

/** Where the link sends what it reads while a handshake runs. */
export interface HandshakeListener {
  onFrame: (f: Frame) => void;
  onDrop: (reason: DropReason) => void;
}

/** What a handshake needs of the link. */
export interface HandshakeContext {
  readonly line: Line;
  readonly session: number;
  /**
   * Runs `start` (which returns its clean-up) and resolves when `settle` is called with nothing; rejects
   * with its error (failing the link) or with the link's failure. Ends the listening either way.
   */
  until(start: (settle: (e?: TinypipeError) => void) => () => void): Promise<void>;
  /** Hands the link's frames and decoder drops to `listener` until the handshake settles. */
  listen(listener: HandshakeListener): void;
  /** Opens the link to `peer` at once (before the next frame is read). */
  open(peer: HelloInfo, peerSession: number, helloAck?: Frame): void;
}

const malformedAck = (what: string) =>
  new TinypipeError('PROTOCOL_MISMATCH', `${what} from the board: it speaks another protocol`);

/** Host: HELLO until HELLO_ACK; returns the rate it proposed (0: none). */
export async function connectHost(ctx: HandshakeContext, options: HostHandshakeOptions): Promise<number> {
  const { line } = ctx;
  const clock = line.clock;
  const expect = options.expect ?? {};
  const canSwitch =
    options.baud !== undefined && options.baud > 0 && line.transport.setBaudRate !== undefined;
  const mine: HelloInfo = {
    protocol: HELLO_PROTOCOL,
    role: 'host',
    board: expect.board,
    fingerprint: expect.fingerprint,
    layers: expect.layers,
    vocab: expect.vocab,
    build: expect.build,
    maxPayload: MAX_PAYLOAD,
    streams: 0,
    caps: { embedding: false, classifier: false, sampler: false },
    baud: canSwitch ? options.baud! : 0,
  };
  const hello = helloFrame(ctx.session, mine);
  const interval = options.helloIntervalMs ?? 100;
  const limit = options.handshakeTimeoutMs ?? 2000;
  await ctx.until((settle) => {
    const send = () => line.write(hello);
    const resend = clock.setInterval(send, interval);
    const give = clock.setTimeout(
      () =>
        settle(
          new TinypipeError(
            'TIMEOUT',
            `no answer to HELLO within ${limit} ms: is the board powered, flashed with the tinypipe firmware, and on this port at this baud rate?`,
          ),
        ),
      limit,
    );
    ctx.listen({
      onDrop: (reason) => {
        if (reason === 'version')
          settle(
            new TinypipeError(
              'PROTOCOL_MISMATCH',
              `the board answered in another frame version (this host speaks ${PROTOCOL_VERSION}): update the firmware or the host`,
            ),
          );
      },
      onFrame: (f) => {
        if (f.type !== FrameType.HELLO_ACK) return;
        if (f.payload.length < 1) return settle(malformedAck('an empty HELLO_ACK'));
        let board: HelloInfo;
        try {
          board = decodeHello(f.payload.subarray(1));
        } catch (cause) {
          return settle(
            new TinypipeError(
              'PROTOCOL_MISMATCH',
              `the board's HELLO_ACK does not parse: ${String((cause as Error).message)}`,
              { cause },
            ),
          );
        }
        // the host decides for itself, whatever the board's status says; the status explains a refusal
        const refused =
          checkHello(mine, board) ??
          (f.payload[0] === HelloStatus.OK
            ? undefined
            : new TinypipeError(
                f.payload[0] === HelloStatus.PROTOCOL_MISMATCH
                  ? 'PROTOCOL_MISMATCH'
                  : f.payload[0] === HelloStatus.WRONG_BUILD
                    ? 'MIXED_BUILD'
                    : 'WRONG_MODEL',
                `the board refused the handshake (status ${f.payload[0]})`,
              ));
        if (refused) return settle(refused);
        ctx.open(board, f.session);
        settle();
      },
    });
    send();
    return () => {
      clock.clearInterval(resend);
      clock.clearTimeout(give);
    };
  });
  return mine.baud;
}

/** Board: answers every HELLO, refuses what it cannot serve; returns the rate it accepted (0: none). */
export async function acceptBoard(
  ctx: HandshakeContext,
  board: HelloInfo,
  options: BoardHandshakeOptions,
): Promise<number> {
  const { line, session } = ctx;
  const mine: HelloInfo = { ...board, protocol: HELLO_PROTOCOL, role: 'board' };
  let switchTo = 0;
  await ctx.until((settle) => {
    ctx.listen({
      onDrop: (reason) => {
        if (reason !== 'version') return;
        const e = new TinypipeError('PROTOCOL_MISMATCH', 'a host spoke another frame version');
        options.onRefused?.(e);
        line.write(helloAckFrame(session, HelloStatus.PROTOCOL_MISMATCH, { ...mine, baud: 0 }));
      },
      onFrame: (f) => {
        if (f.type !== FrameType.HELLO) return;
        let refused: TinypipeError | undefined;
        let host: HelloInfo | undefined;
        try {
          host = decodeHello(f.payload);
          refused = checkHello(host, mine);
        } catch (cause) {
          refused = new TinypipeError('PROTOCOL_MISMATCH', 'a host sent a HELLO this board cannot parse', {
            cause,
          });
        }
        switchTo =
          !refused && host!.baud > 0 && line.transport.setBaudRate
            ? (options.acceptBaud?.(host!.baud) ?? 0)
            : 0;
        // a protocol-1 host (60-byte HELLO) is refused in the layout it decodes (docs/protocol.md §4.1)
        const answer = helloAckFrame(
          session,
          helloStatusOf(refused),
          { ...mine, baud: switchTo },
          f.payload.length === HELLO_V1_BYTES ? HELLO_V1_BYTES : HELLO_BYTES,
        );
        line.write(answer);
        if (refused) {
          options.onRefused?.(refused);
          return;
        }
        ctx.open(host!, f.session, answer);
        settle();
      },
    });
    return () => {};
  });
  return switchTo;
}
