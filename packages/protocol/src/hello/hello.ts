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
 *   52  u32     caps          bit 0 embedding, 1 classifier, 2 sampler, 3–4 KV format (0 fp32, 1 fp16, 2 int8)
 *   56  u32     baud          proposed / accepted line rate (0: keep)
 *   60  u8[8]   build         build id (8×0: any / none) — since HELLO protocol 2
 *   (all little-endian; HELLO_ACK = u8 status ‖ the board's 68 bytes)
 */
import { TinypipeError } from '../errors/tinypipe-error.js';
import { type KvFormat, kvFormatCode, kvFormatOf } from './kv-format.js';

/** The frame version (docs/protocol.md §3): the first byte of every frame body. */
export const PROTOCOL_VERSION = 1;
/** The HELLO `protocol` field (§4.1): 2 since the HELLO carries the build id. */
export const HELLO_PROTOCOL = 2;
/** Bytes of a protocol-2 HELLO payload. */
export const HELLO_BYTES = 68;
/** Bytes of a protocol-1 HELLO (no build id): decoded so an old peer is told PROTOCOL_MISMATCH. */
export const HELLO_V1_BYTES = 60;
/** Bytes of a build id (docs/image-format.md §3, `build_id`). */
export const BUILD_ID_BYTES = 8;
/**
 * Field offsets of the HELLO payload (the same names as the C firmware's `TP_HELLO_OFF_*`;
 * docs/vectors/protocol.json `helloOffsets` holds them for both sides' tests).
 */
export const HELLO_OFFSETS = {
  protocol: 0,
  role: 1,
  board: 2,
  fingerprint: 4,
  layerFrom: 36,
  layerTo: 38,
  vocabFrom: 40,
  vocabTo: 44,
  maxPayload: 48,
  streams: 50,
  caps: 52,
  baud: 56,
  build: 60,
} as const;
const O = HELLO_OFFSETS;
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
  caps: HelloCaps;
  /** Proposed (host) or accepted (board) line rate after the handshake; 0 = keep. */
  baud: number;
  /**
   * The build id, 8 bytes (host: the build it expects, undefined = any; board: its image's
   * `build_id`, undefined = none, e.g. a version-1 image). Always undefined in a protocol-1 HELLO.
   */
  build?: Uint8Array | undefined;
}

/** The HELLO `caps` word (§4.1): what a board holds and does besides its layers. */
export interface HelloCaps {
  embedding: boolean;
  classifier: boolean;
  sampler: boolean;
  /**
   * Bits 3–4: the KV cache format of the board's image (docs/numerics.md §6b; `'fp32'` when it has no
   * image). Undefined encodes as `'fp32'`; `decodeHello` always sets it. A host sends `'fp32'`.
   */
  kv?: KvFormat | undefined;
}

/** The bit position of the KV format in the HELLO `caps` word (two bits: 3 and 4). */
export const HELLO_CAPS_KV_SHIFT = 3;

/** HELLO_ACK status byte. */
export const HelloStatus = { OK: 0, PROTOCOL_MISMATCH: 1, WRONG_MODEL: 2, WRONG_BUILD: 3 } as const;
export type HelloStatus = (typeof HelloStatus)[keyof typeof HelloStatus];

export function encodeHello(h: HelloInfo): Uint8Array {
  const out = new Uint8Array(HELLO_BYTES);
  const v = new DataView(out.buffer);
  v.setUint8(O.protocol, h.protocol);
  v.setUint8(O.role, h.role === 'host' ? 0 : 1);
  v.setUint16(O.board, h.board ?? ANY16, true);
  if (h.fingerprint) {
    if (h.fingerprint.length !== 32)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `a model fingerprint is 32 bytes, not ${h.fingerprint.length}`,
      );
    out.set(h.fingerprint, O.fingerprint);
  }
  v.setUint16(O.layerFrom, h.layers?.[0] ?? ANY16, true);
  v.setUint16(O.layerTo, h.layers?.[1] ?? ANY16, true);
  v.setUint32(O.vocabFrom, h.vocab?.[0] ?? ANY32, true);
  v.setUint32(O.vocabTo, h.vocab?.[1] ?? ANY32, true);
  v.setUint16(O.maxPayload, h.maxPayload, true);
  v.setUint16(O.streams, h.streams, true);
  v.setUint32(
    O.caps,
    (h.caps.embedding ? 1 : 0) |
      (h.caps.classifier ? 2 : 0) |
      (h.caps.sampler ? 4 : 0) |
      (kvFormatCode(h.caps.kv ?? 'fp32') << HELLO_CAPS_KV_SHIFT),
    true,
  );
  v.setUint32(O.baud, h.baud, true);
  if (h.build) {
    if (h.build.length !== BUILD_ID_BYTES)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `a build id is ${BUILD_ID_BYTES} bytes, not ${h.build.length}`,
      );
    out.set(h.build, O.build);
  }
  return out;
}

/**
 * Parses a HELLO payload: 68 bytes (protocol 2), or 60 bytes (a protocol-1 peer: no build id, so the
 * caller's `checkHello` reports PROTOCOL_MISMATCH with both versions). MESSAGE_MALFORMED for any other
 * size, an unknown role or KV format 3 in `caps`.
 */
export function decodeHello(bytes: Uint8Array): HelloInfo {
  if (bytes.length !== HELLO_BYTES && bytes.length !== HELLO_V1_BYTES) {
    throw new TinypipeError(
      'MESSAGE_MALFORMED',
      `a HELLO payload is ${HELLO_BYTES} bytes (${HELLO_V1_BYTES} in protocol 1), this one ${bytes.length}: the peer speaks another protocol`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const role = v.getUint8(O.role);
  if (role > 1)
    throw new TinypipeError('MESSAGE_MALFORMED', `HELLO role ${role} is neither host (0) nor board (1)`);
  const fingerprint = bytes.slice(O.fingerprint, O.fingerprint + 32);
  const build =
    bytes.length === HELLO_BYTES ? bytes.slice(O.build, O.build + BUILD_ID_BYTES) : new Uint8Array(0);
  const board = v.getUint16(O.board, true);
  const l0 = v.getUint16(O.layerFrom, true);
  const l1 = v.getUint16(O.layerTo, true);
  const v0 = v.getUint32(O.vocabFrom, true);
  const v1 = v.getUint32(O.vocabTo, true);
  const caps = v.getUint32(O.caps, true);
  const kv = kvFormatOf((caps >>> HELLO_CAPS_KV_SHIFT) & 3);
  if (kv === undefined)
    throw new TinypipeError(
      'MESSAGE_MALFORMED',
      `HELLO caps bits 3–4 hold KV format ${(caps >>> HELLO_CAPS_KV_SHIFT) & 3}, not 0 (fp32), 1 (fp16) or 2 (int8): the peer speaks another protocol`,
    );
  return {
    protocol: v.getUint8(O.protocol),
    role: role === 0 ? 'host' : 'board',
    board: board === ANY16 ? undefined : board,
    fingerprint: fingerprint.every((b) => b === 0) ? undefined : fingerprint,
    layers: l0 === ANY16 && l1 === ANY16 ? undefined : [l0, l1],
    vocab: v0 === ANY32 && v1 === ANY32 ? undefined : [v0, v1],
    maxPayload: v.getUint16(O.maxPayload, true),
    streams: v.getUint16(O.streams, true),
    caps: {
      embedding: (caps & 1) !== 0,
      classifier: (caps & 2) !== 0,
      sampler: (caps & 4) !== 0,
      kv,
    },
    baud: v.getUint32(O.baud, true),
    build: build.every((b) => b === 0) ? undefined : build,
  };
}

/** HELLO_ACK status for a refusal `checkHello` returned. */
export function helloStatusOf(e: TinypipeError | undefined): HelloStatus {
  if (!e) return HelloStatus.OK;
  if (e.code === 'PROTOCOL_MISMATCH') return HelloStatus.PROTOCOL_MISMATCH;
  return e.code === 'MIXED_BUILD' ? HelloStatus.WRONG_BUILD : HelloStatus.WRONG_MODEL;
}

const hex = (b: Uint8Array | undefined) =>
  b ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') : 'none';
const range = (r: readonly [number, number] | undefined) => (r ? `[${r[0]}, ${r[1]})` : 'any');

/**
 * What a board answers to a host's HELLO (§4.1): the status and, when refused, the error both ends
 * report — with what each side has. `PROTOCOL_MISMATCH` (status 1), `WRONG_MODEL` (status 2: model,
 * board index, layers or classifier rows), `MIXED_BUILD` (status 3 `WRONG_BUILD`: the host expects a
 * build id and the board's differs or is absent).
 */
export function checkHello(host: HelloInfo, board: HelloInfo): TinypipeError | undefined {
  if (host.protocol !== HELLO_PROTOCOL || board.protocol !== HELLO_PROTOCOL) {
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
  if (wrong.length === 0) {
    // the build only once the model, board and ranges agree: a board of another build of the same
    // quantization and split (issue 17) — flashed separately, mixed up on the bench
    if (host.build && (!board.build || hex(host.build) !== hex(board.build))) {
      return new TinypipeError(
        'MIXED_BUILD',
        `build ${hex(host.build)} expected, the board holds build ${hex(board.build)}: flash every board from one \`tinypipe build\``,
        { details: { expected: hex(host.build), actual: hex(board.build), board: board.board } },
      );
    }
    return undefined;
  }
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
