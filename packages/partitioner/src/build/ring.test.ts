/**
 * A standalone ring's build (issue 21 item 5): the ESP-IDF overlays and wiring checked against the port's own
 * Kconfig and overlay files, the tokenizer in board 0's image only, each board's sdkconfig.ring in its build.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quantize, readImage, Tokenizer } from '@tinypipe/core';
import { tinyCheckpoint } from '@tinypipe/core/testing';
import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { planModel } from '../plan/plan.js';
import { builtinProfile } from '../profiles/profiles.js';
import { buildPlan, RING_SDKCONFIG_FILE } from './build.js';
import { RING_DEFAULTS, ringBoardConfigs, ringReadme, ringWires } from './ring.js';

const espIdf = fileURLToPath(new URL('../../../firmware/ports/esp-idf/', import.meta.url));
const kconfig = readFileSync(`${espIdf}components/tinypipe/Kconfig`, 'utf8');
/** The default of a Kconfig int symbol, read from the port's Kconfig. */
const kdefault = (name: string) =>
  Number(new RegExp(`config ${name}\\n(?:\\s+[^\\n]*\\n)*?\\s+default (\\d+)`).exec(kconfig)![1]);

const checkpoint = tinyCheckpoint(3);
const qm = quantize(checkpoint, { weights: 'q8' });
const request = (n: number) => ({
  model: { name: 'tiny', source: 'test', config: checkpoint.config, kind: 'q8' as const, groupSize: 32 },
  boards: [
    builtinProfile('esp32s3-n16r8'),
    builtinProfile('esp32s3-n8r2'),
    builtinProfile('esp32s3-n32r8'),
  ].slice(0, n),
  standalone: true,
});
const tokenizer = new Tokenizer(
  Array.from({ length: checkpoint.config.vocabSize }, (_, i) => ({
    score: -i,
    bytes: new TextEncoder().encode(i < 3 ? `<${i}>` : `p${i}`),
  })),
  8,
);
const settings = { ...RING_DEFAULTS, temperature: 0.8, seed: 42, steps: 100 };

describe('ringWires', () => {
  for (const n of [2, 3])
    it(`${n} boards: each board's UART2 TX to the next board's UART1 RX and back, the last board's to board 0, on the Kconfig's pins`, () => {
      const wires = ringWires(n);
      const pin = (uart: 1 | 2, dir: 'TX' | 'RX') =>
        `GPIO${kdefault(`TINYPIPE_UART${uart}_${dir}_PIN`)} (UART${uart} ${dir})`;
      expect(wires).toHaveLength(2 * n);
      for (let i = 0; i < n; i++) {
        const next = (i + 1) % n;
        expect(wires).toContainEqual({
          from: { board: i, pin: pin(2, 'TX') },
          to: { board: next, pin: pin(1, 'RX') },
        });
        expect(wires).toContainEqual({
          from: { board: next, pin: pin(1, 'TX') },
          to: { board: i, pin: pin(2, 'RX') },
        });
      }
      // every TX pin drives exactly one wire, and every wire ends on an RX pin
      const from = wires.map((w) => `${w.from.board} ${w.from.pin}`);
      expect(new Set(from).size).toBe(from.length);
      for (const w of wires) expect(w.to.pin).toMatch(/RX/);
    });
  it('one board: no wires', () => expect(ringWires(1)).toEqual([]));
});

describe('ringBoardConfigs', () => {
  it("names only symbols of the port's Kconfig and overlays that exist, board 0 drives with the settings", () => {
    for (const n of [1, 2, 3]) {
      const plan = planModel(request(n));
      const configs = ringBoardConfigs(plan, settings, 'Once upon a "time"');
      expect(configs.map((c) => c.board)).toEqual(plan.boards.map((b) => b.index));
      for (const c of configs) {
        for (const o of c.overlays) expect(existsSync(`${espIdf}${o}`), o).toBe(true);
        for (const line of c.sdkconfig.split('\n').filter((l) => l.startsWith('CONFIG_'))) {
          const symbol = /^CONFIG_(\w+)=/.exec(line)![1]!;
          expect(kconfig, symbol).toMatch(new RegExp(`config ${symbol}\\n`));
        }
        expect(c.sdkconfig).toContain(`CONFIG_TINYPIPE_BOARD_INDEX=${c.board}`);
        expect(c.sdkconfig.includes('CONFIG_TINYPIPE_RING_DRIVER=y')).toBe(c.board === 0);
      }
      const role = configs.map((c) => c.overlays.at(-1));
      expect(role).toEqual(
        n === 1
          ? ['sdkconfig.defaults.ring-alone']
          : ['sdkconfig.defaults.ring-first', ...Array(n - 1).fill('sdkconfig.defaults.ring-next')],
      );
      // the story settings are board 0's image's: named in comments, none set (a set one overrides the image's)
      expect(configs[0]!.sdkconfig).toContain('\n# CONFIG_TINYPIPE_RING_PROMPT="Once upon a \\"time\\""\n');
      expect(configs[0]!.sdkconfig).toContain('\n# CONFIG_TINYPIPE_RING_TEMPERATURE="0.8"\n');
      expect(configs[0]!.sdkconfig).toContain('\n# CONFIG_TINYPIPE_RING_SEED=42\n');
      expect(configs[0]!.sdkconfig).toContain('\n# CONFIG_TINYPIPE_RING_STEPS=100\n');
      for (const c of configs)
        expect(c.sdkconfig).not.toMatch(
          /^CONFIG_TINYPIPE_RING_(PROMPT|STEPS|TEMPERATURE|TOPP|SEED|PARALLEL)=/m,
        );
    }
    // the module overlays follow the profile (README "Modules"): 8 MB with quad PSRAM; 32 MB octal
    const three = ringBoardConfigs(planModel(request(3)), settings, 'x');
    expect(three[1]!.overlays).toEqual([
      'sdkconfig.defaults',
      'sdkconfig.defaults.8mb',
      'sdkconfig.defaults.quad-psram',
      'sdkconfig.defaults.ring-next',
    ]);
    expect(three[2]!.overlays).toContain('sdkconfig.defaults.octal-flash');
    expect(three[2]!.overlays).toContain('sdkconfig.defaults.32mb');
  });

  it('ring.md lists every board, every wire and what board 0 needs without a tokenizer', () => {
    const plan = planModel(request(3));
    const configs = ringBoardConfigs(plan, settings, '1 2 3');
    const md = ringReadme(plan, configs, settings, false);
    for (const w of ringWires(3))
      expect(md).toContain(`| board ${w.from.board} ${w.from.pin} | board ${w.to.board} ${w.to.pin} |`);
    for (const c of configs) expect(md).toContain(`board-${c.board}/sdkconfig.ring`);
    expect(md).toMatch(/holds no tokenizer section: the board needs one/);
    expect(ringReadme(plan, configs, settings, true)).not.toMatch(/tokenizer section/);
  });
});

describe('buildPlan for a ring', () => {
  it("puts the tokenizer in board 0's image only and each board's sdkconfig.ring in its build", () => {
    const plan = planModel(request(2));
    const builds = buildPlan(plan, qm, { tokenizer, ring: { settings, prompt: 'p5 p6' } });
    const images = builds.map((b) => readImage(b.files.find((f) => f.name === 'model.img')!.bytes));
    expect(images[0]!.tokenizer?.vocabSize).toBe(tokenizer.vocabSize);
    expect(images[0]!.tokenizer?.piece(7)).toEqual(tokenizer.piece(7));
    expect(images[1]!.tokenizer).toBeUndefined();
    // board 0's image holds the story settings it starts with; no other image does
    expect(images[0]!.story).toMatchObject({
      prompt: 'p5 p6', // the prompt as board 0 reads it (ring.prompt)
      steps: Math.min(settings.steps, checkpoint.config.seqLen), // the driver caps them at seq_len
      topp: Math.fround(settings.topp),
      seed: BigInt(settings.seed),
      parallel: settings.parallel,
    });
    expect(images[0]!.story!.temperature).toBe(Math.fround(settings.temperature));
    expect(images[1]!.story).toBeUndefined();
    const configs = ringBoardConfigs(plan, settings, 'p5 p6');
    for (const b of builds) {
      const file = b.files.find((f) => f.name === RING_SDKCONFIG_FILE)!;
      expect(new TextDecoder().decode(file.bytes)).toBe(configs[b.manifest.board]!.sdkconfig);
      expect(file.offset).toBeUndefined(); // not flashed
      expect(b.manifest.files.map((f) => f.name)).toContain(RING_SDKCONFIG_FILE);
    }
    // the ring's files are part of what the build id covers
    expect(builds[0]!.manifest.build).not.toBe(buildPlan(plan, qm)[0]!.manifest.build);
  });

  it('refuses to build a plan whose classifier is split as a ring', () => {
    const plan = planModel({ ...request(2), standalone: false, splitClassifier: true });
    const split = {
      ...plan,
      boards: plan.boards.map((b, i) => ({
        ...b,
        vocab: (i === 0 ? [0, 256] : [256, 512]) as [number, number],
      })),
    };
    let error: unknown;
    try {
      buildPlan(split, qm, { ring: { settings, prompt: '' } });
    } catch (e) {
      error = e;
    }
    expect(TinypipeError.isInstance(error) && error.code).toBe('PLAN_INVALID');
    expect((error as Error).message).toMatch(/cannot run as a standalone ring/);
  });
});
