/**
 * The packet layer of an ESP loader session: commands SLIP-framed over any `Transport`, one at a time,
 * each answer matched to its command by op and awaited with a timeout; the stub's unasked "OHAI"; a lost
 * line fails the pending command at once. Reading the answers' status is here too (its width is the
 * loader's, `kind`); what the commands mean is `EspLoader`'s (`./loader.ts`).
 */
import { TinypipeError, type Transport } from '@tinypipe/protocol';
import { decodePacket, encodeCommand, opName, type Packet } from '../protocol/commands.js';
import { describeError, type LoaderKind, readStatus, STATUS_BYTES } from '../protocol/status.js';
import { SYNC_TIMEOUT_MS } from '../protocol/timing.js';
import { SlipDecoder, slipEncode } from '../slip/slip.js';

/** The greeting the stub sends once it runs: the only packet a loader sends unasked. */
const OHAI = [0x4f, 0x48, 0x41, 0x49];
/** A ROM's answer to a command it does not take may carry another op (esptool `command`): 0x05. */
const ROM_INVALID_RECV_MSG = 0x05;

/** A successful answer: `data` is the body before the status bytes. */
export interface Reply {
  op: number;
  value: number;
  data: Uint8Array;
}

/** What to add to a refusal's message (what the caller can do about it); '' for nothing. */
export type RefusalHint = (op: number, kind: LoaderKind, code: number) => string;

interface Waiting {
  op: number;
  onPacket: (p: Packet) => void;
  onRefused: (p: Packet) => void;
}

export class LoaderLink {
  readonly port: string;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #hint: RefusalHint;
  #decoder: SlipDecoder = this.#newDecoder();
  #waiting: Waiting | undefined;
  #greeting: (() => void) | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #failure: TinypipeError | undefined;
  #onFailure: ((e: TinypipeError) => void) | undefined;
  /** Rejects the moment the line is lost: work between commands (compression) races it. */
  readonly lost: Promise<never>;
  #lose!: (e: TinypipeError) => void;
  /** Who answers: decides the status bytes' width and how a ROM refusal looks. */
  kind: LoaderKind = 'rom';

  /** Starts reading `transport` at once; `port` names it in messages; `hint` completes refusals' messages. */
  constructor(transport: Transport, port: string, hint: RefusalHint) {
    this.port = port;
    this.#hint = hint;
    this.#writer = transport.writable.getWriter();
    this.lost = new Promise<never>((_, reject) => {
      this.#lose = reject;
    });
    this.lost.catch(() => {}); // observed by whoever races it
    void (async () => {
      const reader = transport.readable.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.#decoder.push(value);
        }
        this.#fail(new TinypipeError('PORT_DISCONNECTED', `${port}: the line closed`));
      } catch (cause) {
        this.#fail(
          TinypipeError.isInstance(cause)
            ? cause
            : new TinypipeError('PORT_DISCONNECTED', `${port}: reading failed`, { cause }),
        );
      } finally {
        reader.releaseLock();
      }
    })();
  }

  #newDecoder(): SlipDecoder {
    return new SlipDecoder((p) => {
      if (p.length === OHAI.length && OHAI.every((b, i) => p[i] === b)) return this.#greeting?.();
      const r = decodePacket(p);
      const w = this.#waiting;
      if (!r || !w) return;
      if (r.op === w.op) w.onPacket(r);
      else if (this.kind === 'rom' && r.body[0] !== 0 && r.body[1] === ROM_INVALID_RECV_MSG) w.onRefused(r);
    });
  }

  #fail(e: TinypipeError): void {
    if (this.#failure) return;
    this.#failure = e;
    this.#lose(e);
    this.#onFailure?.(e); // the pending command rejects now, whatever its timeout
  }

  #timeout(op: number, ms: number): TinypipeError {
    return new TinypipeError('TIMEOUT', `${this.port}: no answer to ${opName(op)} within ${ms} ms`);
  }

  /**
   * Sends one command and collects its answers (`count` packets of the same op; SYNC has 8) without
   * reading their status. Commands run one at a time.
   */
  exchange(op: number, data: Uint8Array, check: number, timeoutMs: number, count = 1): Promise<Packet[]> {
    const run = async (): Promise<Packet[]> => {
      if (this.#failure) throw this.#failure;
      const got: Packet[] = [];
      const answers = new Promise<Packet[]>((resolve, reject) => {
        let timer = setTimeout(() => reject(this.#timeout(op, timeoutMs)), timeoutMs);
        this.#waiting = {
          op,
          onPacket: (p) => {
            got.push(p);
            clearTimeout(timer);
            if (got.length >= count) return resolve(got);
            timer = setTimeout(() => resolve(got), SYNC_TIMEOUT_MS); // the rest, if they come
          },
          onRefused: (p) => {
            clearTimeout(timer);
            resolve([p]);
          },
        };
        this.#onFailure = (e) => {
          clearTimeout(timer);
          reject(e);
        };
      });
      answers.catch(() => {}); // observed below; keeps a rejection after a failed write from going unhandled
      const sent = this.#writer.write(slipEncode(encodeCommand(op, data, check))).catch((cause) => {
        throw new TinypipeError('PORT_DISCONNECTED', `${this.port}: writing failed`, { cause });
      });
      // the answer's timer also bounds a write the driver never completes: a flash fails, never hangs
      return Promise.race([sent.then(() => answers), answers]).finally(() => {
        this.#waiting = undefined;
        this.#onFailure = undefined;
      });
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => {});
    return next;
  }

  /** Sends one command and waits for its answer; FLASH_FAILED, naming the loader's error code, when it says no. */
  async command(op: number, data: Uint8Array, check: number, timeoutMs: number): Promise<Reply> {
    const kind = this.kind;
    const [p] = await this.exchange(op, data, check, timeoutMs);
    const s = readStatus(p!.body, kind);
    if (!s)
      throw new TinypipeError(
        'FLASH_FAILED',
        `${this.port}: ${opName(op)} answered with ${p!.body.length} body bytes, fewer than the ${kind}'s ${STATUS_BYTES[kind]} status bytes: is this an ESP32-S3 bootloader?`,
        { details: { op, kind, body: Array.from(p!.body) } },
      );
    if (!s.ok || p!.op !== op)
      throw new TinypipeError(
        'FLASH_FAILED',
        `${this.port}: ${opName(op)} failed: ${describeError(kind, s.code)}${p!.op !== op ? ` (answered as ${opName(p!.op)})` : ''}${this.#hint(op, kind, s.code)}`,
        { details: { op, kind, error: s.code, status: Array.from(s.bytes) } },
      );
    return { op, value: p!.value >>> 0, data: s.data };
  }

  /**
   * Runs `start` (the command that starts the stub) listening for the stub's "OHAI": true when it comes
   * within `timeoutMs` of `start`'s end.
   */
  async greeted(start: () => Promise<unknown>, timeoutMs: number): Promise<boolean> {
    let greeted!: () => void;
    const greeting = new Promise<void>((resolve) => {
      greeted = resolve;
    });
    this.#greeting = greeted;
    try {
      await start();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ok = await Promise.race([
        greeting.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      return ok;
    } finally {
      this.#greeting = undefined;
    }
  }

  /** Drops what arrived but was not a whole packet yet (line noise from a baud switch). */
  resync(): void {
    this.#decoder = this.#newDecoder();
  }

  /** Lets go of the transport's writer (the caller closes the transport). */
  release(): void {
    this.#writer.releaseLock();
  }
}
