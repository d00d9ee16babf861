/**
 * The handshake payload (docs/protocol.md §4.1): who is at each end of a link and what it holds, so a
 * host never drives a board that has the wrong model, the wrong layers or another protocol.
 *
 *   0   u8      protocol      PROTOCOL_VERSION
 *   1   u8      role          0 host, 1 board
 *   2   u16     board         plan index (0xFFFF: any / none)
 *   4   u8[32]  fingerprint   model fingerprint (32×0: any / none)
 *   36  u16×2   layers        [from, to)   (0xFFFF, 0xFFFF: any)
 *   40  u32×2   vocab         [from, to)   (0xFFFFFFFF ×2: any; 0, 0: no classifier rows)
 *   48  u16     max_payload
 *   50  u16     streams
 *   52  u32     caps          bit 0 embedding, 1 classifier, 2 sampler
 *   56  u32     baud          proposed / accepted line rate (0: keep)
 *   (all little-endian; HELLO_ACK = u8 status ‖ the board's 60 bytes)
 */
import { TinypipeError } from '../errors/index.js';

export const PROTOCOL_VERSION = 1;
export const HELLO_BYTES = 60;
const ANY16 = 0xffff;
const ANY32 = 0xffffffff;

export interface HelloInfo {
  protocol: number;
  role: 'host' | 'board';
  /** The plan's board index (host: the one it expects; undefined = any / none). */
  board?: number | undefined;
  /** SHA-256 model fingerprint (host: expected, undefined = any; board: its image's, undefined = none). */
  fingerprint?: Uint8Array | undefined;
  /** Layers `[from, to)` (host: expected, undefined = any). */
  layers?: readonly [number, number] | undefined;
  /** Classifier rows `[from, to)`; `[0, 0]` = none (host: expected, undefined = any). */
  vocab?: readonly [number, number] | undefined;
  maxPayload: number;
  /** Streams (KV caches) the board has room for; 0 from a host. */
  streams: number;
  caps: { embedding: boolean; classifier: boolean; sampler: boolean };
  /** Proposed (host) or accepted (board) line rate after the handshake; 0 = keep. */
  baud: number;
}

/** HELLO_ACK status byte. */
export const HelloStatus = { OK: 0, PROTOCOL_MISMATCH: 1, WRONG_MODEL: 2 } as const;
export type HelloStatus = (typeof HelloStatus)[keyof typeof HelloStatus];

export function encodeHello(h: HelloInfo): Uint8Array {
  const out = new Uint8Array(HELLO_BYTES);
  const v = new DataView(out.buffer);
  v.setUint8(0, h.protocol);
  v.setUint8(1, h.role === 'host' ? 0 : 1);
  v.setUint16(2, h.board ?? ANY16, true);
  if (h.fingerprint) {
    if (h.fingerprint.length !== 32)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `a model fingerprint is 32 bytes, not ${h.fingerprint.length}`,
      );
    out.set(h.fingerprint, 4);
  }
  v.setUint16(36, h.layers?.[0] ?? ANY16, true);
  v.setUint16(38, h.layers?.[1] ?? ANY16, true);
  v.setUint32(40, h.vocab?.[0] ?? ANY32, true);
  v.setUint32(44, h.vocab?.[1] ?? ANY32, true);
  v.setUint16(48, h.maxPayload, true);
  v.setUint16(50, h.streams, true);
  v.setUint32(52, (h.caps.embedding ? 1 : 0) | (h.caps.classifier ? 2 : 0) | (h.caps.sampler ? 4 : 0), true);
  v.setUint32(56, h.baud, true);
  return out;
}

/** Parses a HELLO payload; MESSAGE_MALFORMED when it is not 60 bytes or names an unknown role. */
export function decodeHello(bytes: Uint8Array): HelloInfo {
  if (bytes.length !== HELLO_BYTES) {
    throw new TinypipeError(
      'MESSAGE_MALFORMED',
      `a HELLO payload is ${HELLO_BYTES} bytes, this one ${bytes.length}: the peer speaks another protocol`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const role = v.getUint8(1);
  if (role > 1)
    throw new TinypipeError('MESSAGE_MALFORMED', `HELLO role ${role} is neither host (0) nor board (1)`);
  const fingerprint = bytes.slice(4, 36);
  const board = v.getUint16(2, true);
  const l0 = v.getUint16(36, true);
  const l1 = v.getUint16(38, true);
  const v0 = v.getUint32(40, true);
  const v1 = v.getUint32(44, true);
  const caps = v.getUint32(52, true);
  return {
    protocol: v.getUint8(0),
    role: role === 0 ? 'host' : 'board',
    board: board === ANY16 ? undefined : board,
    fingerprint: fingerprint.every((b) => b === 0) ? undefined : fingerprint,
    layers: l0 === ANY16 && l1 === ANY16 ? undefined : [l0, l1],
    vocab: v0 === ANY32 && v1 === ANY32 ? undefined : [v0, v1],
    maxPayload: v.getUint16(48, true),
    streams: v.getUint16(50, true),
    caps: { embedding: (caps & 1) !== 0, classifier: (caps & 2) !== 0, sampler: (caps & 4) !== 0 },
    baud: v.getUint32(56, true),
  };
}

const hex = (b: Uint8Array | undefined) =>
  b ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') : 'none';
const range = (r: readonly [number, number] | undefined) => (r ? `[${r[0]}, ${r[1]})` : 'any');

/**
 * What a board answers to a host's HELLO (§4.1): the status and, when refused, the error both ends
 * report — with what each side has.
 */
export function checkHello(host: HelloInfo, board: HelloInfo): TinypipeError | undefined {
  if (host.protocol !== PROTOCOL_VERSION || board.protocol !== PROTOCOL_VERSION) {
    return new TinypipeError(
      'PROTOCOL_MISMATCH',
      `the host speaks protocol ${host.protocol} and the board ${board.protocol}: update the firmware or the host so both speak the same version`,
      { details: { expected: host.protocol, actual: board.protocol } },
    );
  }
  const wrong: string[] = [];
  if (host.fingerprint && (!board.fingerprint || hex(host.fingerprint) !== hex(board.fingerprint)))
    wrong.push(
      `model ${hex(host.fingerprint).slice(0, 16)}… expected, the board holds ${hex(board.fingerprint).slice(0, 16)}…`,
    );
  if (host.board !== undefined && host.board !== board.board)
    wrong.push(`board ${host.board} expected, this is board ${board.board ?? 'none'}`);
  if (host.layers && (board.layers?.[0] !== host.layers[0] || board.layers?.[1] !== host.layers[1]))
    wrong.push(`layers ${range(host.layers)} expected, the board holds ${range(board.layers)}`);
  if (host.vocab && (board.vocab?.[0] !== host.vocab[0] || board.vocab?.[1] !== host.vocab[1]))
    wrong.push(`classifier rows ${range(host.vocab)} expected, the board holds ${range(board.vocab)}`);
  if (wrong.length === 0) return undefined;
  return new TinypipeError(
    'WRONG_MODEL',
    `${wrong.join('; ')}: flash this board with the plan's image for it`,
    {
      details: {
        expected: {
          fingerprint: hex(host.fingerprint),
          board: host.board,
          layers: host.layers,
          vocab: host.vocab,
        },
        actual: {
          fingerprint: hex(board.fingerprint),
          board: board.board,
          layers: board.layers,
          vocab: board.vocab,
        },
      },
    },
  );
}
