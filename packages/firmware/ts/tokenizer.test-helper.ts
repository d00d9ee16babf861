/**
 * The C tokenizer harness (test/tokenizer.c, `tp-tokenizer`) driven from TS: batches of encode / decode cases
 * in, the C results out, and the TS tokenizer's answers in the same shape to compare with.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printableBytes, type Tokenizer, type TokenizerSection, tokenizerSection } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';
import { buildPosixBoard, firmwareRoot } from './build.js';
import { tmp } from './helpers.test-helper.js';

/** tp_status values the tokenizer returns. */
export const STATUS = { OK: 0, NO_MEMORY: 11, BAD_TABLE: 7, ARG: 12 } as const;

export type Case =
  | { kind: 'E'; text: Uint8Array; bos: boolean; eos: boolean; cap?: number }
  | { kind: 'D'; prev: number; tokens: number[] };

export type Result =
  | { kind: 'E'; status: number; tokens: number[] }
  | { kind: 'D'; status: number; pieces: { bytes: number[]; printable: number }[] };

/** Runs the harness with these arguments (host process or QEMU). */
export type Runner = (args: string[]) => void;

/** The section file test/tokenizer.c reads ("TPTK", vocab, max_token_length, bytes_len, arrays). */
export function sectionFile(s: TokenizerSection): Uint8Array {
  const head = new Uint8Array(16);
  const v = new DataView(head.buffer);
  head.set([0x54, 0x50, 0x54, 0x4b]);
  v.setUint32(4, s.vocabSize, true);
  v.setUint32(8, s.maxTokenLength, true);
  v.setUint32(12, s.bytes.length, true);
  const le = (a: Float32Array | Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // x86/Node: LE
  return Buffer.concat([head, le(s.scores), le(s.offsets), le(s.sorted), s.bytes]);
}

function casesFile(cases: readonly Case[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const c of cases) {
    if (c.kind === 'E') {
      const h = new Uint8Array(6);
      h[0] = 0x45;
      h[1] = (c.bos ? 1 : 0) | (c.eos ? 2 : 0) | (c.cap === undefined ? 0 : 4 | (c.cap << 3)); // cap < 32
      new DataView(h.buffer).setUint32(2, c.text.length, true);
      parts.push(h, c.text);
    } else {
      const h = new Uint8Array(9 + 4 * c.tokens.length);
      const v = new DataView(h.buffer);
      h[0] = 0x44;
      v.setInt32(1, c.prev, true);
      v.setUint32(5, c.tokens.length, true);
      c.tokens.forEach((t, i) => {
        v.setInt32(9 + 4 * i, t, true);
      });
      parts.push(h);
    }
  }
  return Buffer.concat(parts);
}

function parseResults(out: Uint8Array, cases: readonly Case[]): Result[] {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = 0;
  const u32 = () => {
    at += 4;
    return v.getUint32(at - 4, true);
  };
  const results = cases.map((c): Result => {
    const status = u32();
    const n = u32();
    if (c.kind === 'E') return { kind: 'E', status, tokens: Array.from({ length: n }, () => u32() | 0) };
    const pieces = Array.from({ length: n }, () => {
      const len = u32();
      const bytes = [...out.subarray(at, at + len)];
      at += len;
      return { bytes, printable: u32() };
    });
    return { kind: 'D', status, pieces };
  });
  if (at !== out.length) throw new Error(`harness wrote ${out.length} bytes, parsed ${at}`);
  return results;
}

/** Runs `cases` through the C harness over a tokenizer (`section` file or weight `image`). */
export function runC(
  run: Runner,
  mode: 'section' | 'image',
  source: Uint8Array,
  cases: readonly Case[],
): Result[] {
  const dir = mkdtempSync(join(tmp, 'tok-'));
  try {
    const [src, input, output] = ['source.bin', 'cases.bin', 'out.bin'].map((f) => join(dir, f)) as [
      string,
      string,
      string,
    ];
    writeFileSync(src, source);
    writeFileSync(input, casesFile(cases));
    run([mode, src, input, output]);
    return parseResults(new Uint8Array(readFileSync(output)), cases);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The C harness's status for what the TS tokenizer threw (rethrows anything else). */
function statusOf(error: unknown): number {
  if (error instanceof TinypipeError && error.code === 'TOKENIZER_BAD_FILE') return STATUS.BAD_TABLE;
  if (error instanceof TinypipeError && error.code === 'TOKEN_OUT_OF_RANGE') return STATUS.ARG;
  throw error;
}

/** What the TS tokenizer answers for `cases`, in the harness's shape. */
export function runTs(tok: Tokenizer, cases: readonly Case[]): Result[] {
  return cases.map((c): Result => {
    if (c.kind === 'E') {
      try {
        return { kind: 'E', status: STATUS.OK, tokens: tok.encodeBytes(c.text, c) };
      } catch (e) {
        return { kind: 'E', status: statusOf(e), tokens: [] };
      }
    }
    const pieces: { bytes: number[]; printable: number }[] = [];
    let prev = c.prev;
    for (const t of c.tokens) {
      let piece: Uint8Array;
      try {
        piece = tok.decodePiece(prev, t);
      } catch (e) {
        return { kind: 'D', status: statusOf(e), pieces };
      }
      pieces.push({ bytes: [...piece], printable: printableBytes(piece).length });
      prev = t;
    }
    return { kind: 'D', status: STATUS.OK, pieces };
  });
}

/** The text the board prints for a decode result: the printable bytes, as UTF-8. */
export function printed(r: Result): string {
  if (r.kind !== 'D') throw new Error('not a decode result');
  return new TextDecoder().decode(Uint8Array.from(r.pieces.flatMap((p) => p.bytes.slice(0, p.printable))));
}

/** The section file of `tok`. */
export const sectionOf = (tok: Tokenizer): Uint8Array => sectionFile(tokenizerSection(tok));

/** The host build of the harness under ASan + UBSan (cmake, with the other test tools). */
export function hostRunner(): Runner {
  const exe = join(buildPosixBoard({ sanitize: true }).dir, 'tp-tokenizer');
  return (args) => {
    execFileSync(exe, args, { stdio: 'pipe', maxBuffer: 1 << 26 });
  };
}

/** The rv32imafc build of the harness under qemu-system-riscv32 (semihosting for the files). */
export function rv32Runner(): Runner {
  const out = join(firmwareRoot(), 'build', 'rv32');
  execFileSync(join(firmwareRoot(), 'ports', 'rv32-qemu', 'build-tokenizer.sh'), [out], { stdio: 'pipe' });
  const elf = join(out, 'tp-tokenizer-rv32.elf');
  return (args) => {
    const semi = args.map((a) => `arg=${a}`).join(',');
    const console = join(tmp, `rv32-tok-${process.pid}.txt`);
    try {
      // qemu exits with the program's status (semihosting SYS_EXIT)
      execFileSync(
        'qemu-system-riscv32',
        // biome-ignore format: one option and its value a line
        ['-machine', 'virt', '-m', '64M', '-display', 'none', '-serial', 'none', '-monitor', 'none', '-bios', 'none',
          '-chardev', `file,id=semi,path=${console}`, '-semihosting-config', `enable=on,target=native,chardev=semi,${semi}`,
          '-kernel', elf],
        { stdio: 'pipe', timeout: 600_000 },
      );
    } catch (cause) {
      let said = '';
      try {
        said = readFileSync(console, 'utf8');
      } catch {}
      throw new Error(`rv32 tp-tokenizer failed: ${said}`, { cause });
    } finally {
      rmSync(console, { force: true });
    }
  };
}
