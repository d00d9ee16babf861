/**
 * The posix board with --line-baud (its transmit paced like a UART, ports/posix/pty_board.c) against the
 * TypeScript host over a real PTY: a clean line stays clean (docs/protocol.md §4.0), and a flood
 * never livelocks the board.
 */
import { readFileSync } from 'node:fs';
import {
  encodeFrame,
  encodeHello,
  encodeMessage,
  type Frame,
  FrameDecoder,
  FrameType,
  HELLO_PROTOCOL,
} from '@tinypipe/protocol';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { parseBoardStalls, runLineThroughput, writeThroughputImage } from './line-throughput.js';
import { type PtyBoard, spawnPtyBoard } from './pty-board.js';

const BAUD = 921_600;
const image = writeThroughputImage(tmp);

const boards: PtyBoard[] = [];
afterAll(async () => {
  await Promise.all(boards.map((b) => b.kill('SIGKILL')));
});

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: fields 14 and 15
}

describe('tinypipe-board --line-baud', () => {
  it('TS host ↔ C board, 1,000 clean 1152-byte activations at 921,600 baud: no retransmission on either end, ≥ 90 % of the line', async () => {
    // the acceptance run is 10,000 (npm run bench:link, docs/performance.md): 13 s of line time here
    const r = await runLineThroughput(image, 1000, BAUD);
    // BER 0: every retransmission is spurious. A loaded machine that keeps one end from running for longer
    // than the other's RTO (its floor: 20 ms on the host, 45 ms on the board at this rate) delays that
    // end's ACKs past any timer the other could set; each end's stalls are measured on its own (this
    // thread's timer; the board's --stall-ms ticker). The host: at most a window per RTO timeout the
    // board's stalls allow — its RTO, from its 20 ms floor and doubling each time (§4.0), can expire more
    // than once in a stall, and once more as the board wakes (measured: 7 SIGSTOPs of the board of 100 ms
    // in a run gave up to 66 host retransmissions, more than a window per stall)
    if (r.boardStalls === 0) expect(r.hostRetransmits, JSON.stringify(r)).toBe(0);
    else {
      const timeouts = r.boardStallsMs.reduce((n, ms) => n + Math.floor(Math.log2(ms / 20 + 1)) + 1, 0);
      expect(r.hostRetransmits, JSON.stringify(r)).toBeLessThanOrEqual(8 * timeouts);
    }
    // a stall of the board's own delays its simulated UART too (pty_uart.c): the frames due during it
    // leave on waking, but its link times them from their scheduled departure, already an RTO ago, so it
    // resends them (measured: SIGSTOPs of 100 ms, no host stall, ~4 board retransmissions each)
    const stalls = r.hostStalls + r.boardStalls;
    if (stalls === 0) expect(r.boardRetransmits, JSON.stringify(r)).toBe(0);
    else expect(r.boardRetransmits, JSON.stringify(r)).toBeLessThanOrEqual(8 * stalls);
    expect(r.lineUtilisation).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('--stall-ms counts the times the board could not run: a SIGSTOP of 100 ms is reported as a stall', async () => {
    const board = await spawnPtyBoard(image.path, { board: 0, lineBaud: BAUD, stallMs: 40 });
    boards.push(board);
    const pid = board.process.pid!;
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 100));
    process.kill(pid, 'SIGCONT');
    // the ticker reports once it runs again: wait for its line (the test's timeout bounds the wait)
    while (parseBoardStalls(board.log()).length === 0) await new Promise((r) => setTimeout(r, 20));
    const stalls = parseBoardStalls(board.log());
    // no tick can run between the SIGSTOP and the SIGCONT, so the gap spans them (less a timer's rounding)
    expect(Math.max(...stalls), board.log()).toBeGreaterThanOrEqual(95);
  }, 30_000);

  it('under a flood (its transmit ring full while it computes) it keeps answering, sleeps, and exits when its stdin closes', async () => {
    const board = await spawnPtyBoard(image.path, { board: 0, lineBaud: BAUD });
    boards.push(board);
    const port = await openSerialPort(board.path, { baudRate: BAUD });
    const writer = port.writable.getWriter();
    const session = 0x4242;
    const frame = (type: FrameType, seq: number, ack: number, payload: Uint8Array = new Uint8Array(0)) =>
      encodeFrame({ type, session, seq, ack, sack: 0, payload });
    let accepted = false;
    let answers = 0; // PONGs and ACTIVATIONs
    let received = 0; // the board's next DATA seq, acknowledged
    const decoder = new FrameDecoder((f: Frame) => {
      if (f.type === FrameType.HELLO_ACK) accepted = f.payload[0] === 0;
      if (f.type === FrameType.PONG) answers++;
      if (f.type === FrameType.DATA && f.seq === received) {
        answers++;
        received = (received + 1) & 0xffff;
        writer.write(frame(FrameType.ACK, 0, received)).catch(() => {});
      }
    });
    void (async () => {
      const r = port.readable.getReader();
      for (;;) {
        const { value, done } = await r.read();
        if (done) return;
        decoder.push(value);
      }
    })().catch(() => {});
    const hello = encodeHello({
      protocol: HELLO_PROTOCOL,
      role: 'host',
      maxPayload: 4096,
      streams: 0,
      caps: { embedding: false, classifier: false, sampler: false },
      baud: 0,
    });
    for (let t = 0; t < 50 && !accepted; t++) {
      await writer.write(frame(FrameType.HELLO, 0, 0, hello));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(accepted).toBe(true);

    // every 20 ms a TOKEN (a millisecond of compute) then 150 PINGs, whose PONGs need 30 ms of line:
    // the ring fills, and its oldest frame comes due while the board computes the next TOKEN
    const pid = board.process.pid!;
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    let answersBefore = 0;
    for (let k = 0; performance.now() - started < 2000; k++) {
      if (k === 50) answersBefore = answers;
      const token = frame(
        FrameType.DATA,
        k,
        received,
        encodeMessage({ kind: 'token', stream: 0, pos: k % 256, token: 1 }),
      );
      const pings = Array.from({ length: 150 }, () => frame(FrameType.PING, 0, received));
      writer.write(Uint8Array.from(Buffer.concat([token, ...pings]))).catch(() => {});
      await new Promise((r) => setTimeout(r, 20));
    }
    const window = (performance.now() - started) / 1000;
    const cpu = (cpuSeconds(pid) - cpuBefore) / window;
    expect(answers).toBeGreaterThan(answersBefore); // still answering in the flood's second half
    expect(cpu).toBeLessThan(0.6); // it sleeps while its line drains (the livelock spun at 100 %)

    const exited = new Promise<number | null>((resolve) =>
      board.process.once('exit', (code) => resolve(code)),
    );
    board.process.stdin!.end();
    const code = await Promise.race([
      exited,
      new Promise<'alive'>((r) => setTimeout(() => r('alive'), 3000)),
    ]);
    expect(code).toBe(0);
    writer.releaseLock();
    await port.close().catch(() => {});
  }, 60_000);
});
