/**
 * Driving a simulated board (`tinypipe-board`) from Node: spawn it, open an image, run its stage.
 * Speaks the board's temporary command loop on stdio (ports/posix/board.c).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { firmwareErrorCode, TinypipeError } from '@tinypipe/protocol';
import { buildPosixBoard } from './build.js';

export interface BoardInfo {
  dim: number;
  layerRange: [number, number];
  embedding: boolean;
  classifier: boolean;
  /** Classifier rows `[v0, v1)` (meaningful when `classifier`). */
  vocab: [number, number];
  /** Where a forward starts reading weights (byte offset in the image) and the bytes from there on. */
  firstWeights: { offset: number; bytes: number };
}

export interface SpawnBoardOptions {
  /** The board program (default: build the host variant if needed and use it). */
  program?: string;
  sanitize?: boolean;
}

/** A running simulated board. Requests are answered in order. */
export class Board {
  readonly #child: ChildProcessWithoutNullStreams;
  #buffer = Buffer.alloc(0);
  readonly #waiting: {
    resolve: (a: { status: number; payload: Buffer }) => void;
    reject: (e: unknown) => void;
  }[] = [];
  #exited: TinypipeError | undefined;
  info: BoardInfo | undefined;

  constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    child.stdout.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#drain();
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code, signal) => {
      this.#exited = new TinypipeError(
        'INVALID_ARGUMENT',
        `the board exited (code ${code}, signal ${signal})${stderr ? `: ${stderr.trim()}` : ''}`,
      );
      for (const w of this.#waiting.splice(0)) w.reject(this.#exited);
    });
  }

  #drain(): void {
    while (this.#buffer.length >= 5) {
      const len = this.#buffer.readUInt32LE(1);
      if (this.#buffer.length < 5 + len) return;
      const status = this.#buffer[0]!;
      const payload = this.#buffer.subarray(5, 5 + len);
      this.#buffer = this.#buffer.subarray(5 + len);
      this.#waiting.shift()?.resolve({ status, payload: Buffer.from(payload) });
    }
  }

  /** One request; resolves with the answer's payload, rejects with the board's status as a TinypipeError code. */
  async request(command: string, payload: Uint8Array = new Uint8Array(0)): Promise<Buffer> {
    if (this.#exited) throw this.#exited;
    const head = Buffer.alloc(5);
    head[0] = command.charCodeAt(0);
    head.writeUInt32LE(payload.byteLength, 1);
    const answer = new Promise<{ status: number; payload: Buffer }>((resolve, reject) =>
      this.#waiting.push({ resolve, reject }),
    );
    this.#child.stdin.write(Buffer.concat([head, payload]));
    const { status, payload: out } = await answer;
    if (status !== 0) {
      const text = out.toString('utf8');
      const code = text.split(':')[0] ?? 'INVALID_ARGUMENT';
      // the status's own code (IMAGE_TENSOR_CRC, IMAGE_EXCEEDS_BOARD, NONFINITE…; REMOTE_ERROR for the rest)
      throw new TinypipeError(firmwareErrorCode(status), `board refused '${command}': ${text}`, {
        details: { boardCode: code, status },
      });
    }
    return out;
  }

  /** Opens and verifies an image file (every CRC). */
  async open(imagePath: string): Promise<BoardInfo> {
    const b = await this.request('O', Buffer.from(imagePath, 'utf8'));
    const v = (i: number) => b.readInt32LE(4 * i);
    this.info = {
      dim: v(0),
      layerRange: [v(1), v(2)],
      embedding: v(3) === 1,
      classifier: v(4) === 1,
      vocab: [v(5), v(6)],
      firstWeights: { offset: v(7), bytes: v(8) },
    };
    return this.info;
  }

  async embed(token: number): Promise<Float32Array> {
    const p = Buffer.alloc(4);
    p.writeUInt32LE(token);
    return f32(await this.request('E', p));
  }

  /** Runs the board's layers on x at pos: the new x and one hash per layer. */
  async forward(x: Float32Array, pos: number): Promise<{ x: Float32Array; hashes: number[] }> {
    const p = Buffer.alloc(4 + x.byteLength);
    p.writeUInt32LE(pos);
    Buffer.from(x.buffer, x.byteOffset, x.byteLength).copy(p, 4);
    const out = await this.request('F', p);
    const dim = x.length;
    const hashes: number[] = [];
    for (let at = dim * 4; at < out.length; at += 4) hashes.push(out.readUInt32LE(at));
    return { x: f32(out.subarray(0, dim * 4)), hashes };
  }

  async classify(x: Float32Array): Promise<Float32Array> {
    return f32(await this.request('C', Buffer.from(x.buffer, x.byteOffset, x.byteLength)));
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const done = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin.write(Buffer.from([0x51, 0, 0, 0, 0]));
    this.#child.stdin.end();
    await done;
  }
}

function f32(b: Buffer): Float32Array {
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Starts a simulated board process (building it first when needed). */
export function spawnBoard(options: SpawnBoardOptions = {}): Board {
  const program = options.program ?? buildPosixBoard({ sanitize: options.sanitize }).board;
  return new Board(spawn(program, [], { stdio: 'pipe' }));
}
