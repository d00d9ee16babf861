/**
 * The ESP-IDF side of a standalone ring (docs/protocol.md §4.5; packages/firmware/ports/esp-idf, README
 * "Standalone ring"): per board the sdkconfig overlay it is built with — its ring role, its index, board
 * 0's story settings (the Kconfig `TINYPIPE_RING_*` defaults the driver starts with) — and the wiring table:
 * board i's UART2 TX (GPIO15) to board i+1's UART1 RX (GPIO18), its UART2 RX (GPIO16) from board i+1's
 * UART1 TX (GPIO17), the last board's back to board 0, grounds joined.
 */
import { describeHolding } from '../plan/format.js';
import type { Plan } from '../plan/schema.js';

/** What board 0 of a ring starts with: the sampler and the default prompt (its console changes them later). */
export interface RingSettings {
  /** The default prompt, told again and again until a line is typed on board 0's console. */
  prompt: string;
  /** Positions per story, the prompt included (the board caps it at seq_len). */
  steps: number;
  /** llama2.c's sampler: temperature (0: greedy) and top-p. */
  temperature: number;
  topp: number;
  /** Story n (from 1) is seeded `seed + n − 1`. */
  seed: number;
  /** Stories at once, at most (the ring's smallest stream count caps it). */
  parallel: number;
}

/** The settings a ring starts with unless told otherwise (those of the ESP-IDF Kconfig, but the prompt's). */
export const RING_DEFAULTS: Readonly<RingSettings> = Object.freeze({
  prompt: 'Once upon a time',
  steps: 256,
  temperature: 1,
  topp: 0.9,
  seed: 1,
  parallel: 1,
});

/** The ESP-IDF configuration of one board of a ring. */
export interface RingBoardConfig {
  board: number;
  /** The overlays from ports/esp-idf it is built with, in order, before its own `sdkconfig.ring`. */
  overlays: string[];
  /** Its own overlay (the file `sdkconfig.ring` in its build folder): role, index, streams, story settings. */
  sdkconfig: string;
}

// the ring's two UARTs on every board (ports/esp-idf Kconfig defaults: UART1 17/18, UART2 15/16)
const UP = { uart: 1, tx: 17, rx: 18 };
const DOWN = { uart: 2, tx: 15, rx: 16 };

/** The module overlays of ports/esp-idf for a board of this profile (README, "Modules"). */
function moduleOverlays(profile: Plan['boards'][number]['profile']): string[] {
  const MiB = 1024 * 1024;
  const out: string[] = [];
  if (profile.flashMode === 'octal') out.push('sdkconfig.defaults.octal-flash');
  if (profile.flashBytes === 8 * MiB) out.push('sdkconfig.defaults.8mb');
  if (profile.flashBytes === 32 * MiB) out.push('sdkconfig.defaults.32mb');
  if (profile.psramMode === 'quad') out.push('sdkconfig.defaults.quad-psram');
  return out;
}

/** A Kconfig string value, quoted (backslashes and quotes escaped). */
const kstring = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * Each board's ESP-IDF configuration for `plan` as a ring. Board 0's story settings are in its image (its
 * story defaults, docs/image-format.md §4c): its overlay names them only in comments, one
 * `TINYPIPE_RING_*` line each to uncomment to override that setting in the app (a Kconfig value set
 * overrides the image's). `prompt` is the prompt as the firmware reads it: the text when board 0's image
 * holds the tokenizer, else the prompt's token ids ("1 403 407").
 */
export function ringBoardConfigs(plan: Plan, settings: RingSettings, prompt: string): RingBoardConfig[] {
  const n = plan.boards.length;
  return plan.boards.map((b) => {
    const role =
      n === 1
        ? 'sdkconfig.defaults.ring-alone'
        : b.index === 0
          ? 'sdkconfig.defaults.ring-first'
          : 'sdkconfig.defaults.ring-next';
    const lines = [
      `# tinypipe build --standalone: board ${b.index} of a ring of ${n} (${plan.model.name}, docs/protocol.md §4.5)`,
      `# after: sdkconfig.defaults;${[...moduleOverlays(b.profile), role].join(';')}`,
      'CONFIG_TINYPIPE_CHAIN_ROLE_RING=y',
      `CONFIG_TINYPIPE_BOARD_INDEX=${b.index}`,
      `CONFIG_TINYPIPE_STREAMS=${Math.max(plan.streams, settings.parallel)}`,
      `CONFIG_TINYPIPE_UART_BAUD=${b.profile.uartBaud}`,
    ];
    if (n > 1) lines.push(`CONFIG_TINYPIPE_UP_UART=${UP.uart}`, `CONFIG_TINYPIPE_DOWN_UART=${DOWN.uart}`);
    if (b.index === 0)
      lines.push(
        'CONFIG_TINYPIPE_RING_DRIVER=y',
        ...(n === 1 ? ['CONFIG_TINYPIPE_RING_ALONE=y'] : []),
        "# the story settings are board 0's image's (story.defaults); uncomment a line to override it in the app",
        `# CONFIG_TINYPIPE_RING_PROMPT=${kstring(prompt)}`,
        `# CONFIG_TINYPIPE_RING_STEPS=${settings.steps}`,
        `# CONFIG_TINYPIPE_RING_TEMPERATURE=${kstring(String(settings.temperature))}`,
        `# CONFIG_TINYPIPE_RING_TOPP=${kstring(String(settings.topp))}`,
        `# CONFIG_TINYPIPE_RING_SEED=${settings.seed}`,
        `# CONFIG_TINYPIPE_RING_PARALLEL=${settings.parallel}`,
      );
    return {
      board: b.index,
      overlays: ['sdkconfig.defaults', ...moduleOverlays(b.profile), role],
      sdkconfig: `${lines.join('\n')}\n`,
    };
  });
}

/** One wire of the ring: from board `from`'s pin to board `to`'s pin. */
export interface RingWire {
  from: { board: number; pin: string };
  to: { board: number; pin: string };
}

/** The ring's wires: each hop board i → i+1 (the last → board 0) is two wires, TX to RX both ways. */
export function ringWires(boards: number): RingWire[] {
  if (boards < 2) return [];
  return Array.from({ length: boards }, (_, i) => {
    const j = (i + 1) % boards;
    return [
      {
        from: { board: i, pin: `GPIO${DOWN.tx} (UART${DOWN.uart} TX)` },
        to: { board: j, pin: `GPIO${UP.rx} (UART${UP.uart} RX)` },
      },
      {
        from: { board: j, pin: `GPIO${UP.tx} (UART${UP.uart} TX)` },
        to: { board: i, pin: `GPIO${DOWN.rx} (UART${DOWN.uart} RX)` },
      },
    ];
  }).flat();
}

/**
 * `ring.md`: what to build, wire and flash for `plan` as a ring of ESP32-S3 DevKitC-1 boards — per board
 * its overlays and `sdkconfig.ring`, the wiring table, and how to read the story. `tokenizerInImage` says
 * whether board 0's image holds the tokenizer section (else what the board needs).
 */
export function ringReadme(
  plan: Plan,
  configs: readonly RingBoardConfig[],
  settings: RingSettings,
  tokenizerInImage: boolean,
): string {
  const n = plan.boards.length;
  const out: string[] = [
    `# A standalone ring of ${n} board${n > 1 ? 's' : ''}: ${plan.model.name}`,
    '',
    'Board 0 tells the stories on its console (the USB port: USB-Serial/JTAG); the last board holds the whole',
    'classifier and samples; no computer is needed once the boards are flashed. Step by step, and what is and',
    'is not verified: packages/firmware/ports/esp-idf/README.md, "Standalone ring".',
    '',
    '## 1. Build one app per board',
    '',
    'In packages/firmware/ports/esp-idf, delete any old `sdkconfig` and build each board with these overlays',
    "(the port's own, then the board's `sdkconfig.ring` from this folder, by its absolute path):",
    '',
    '| board | holds | SDKCONFIG_DEFAULTS |',
    '| ----- | ----- | ------------------ |',
  ];
  for (const c of configs) {
    const b = plan.boards[c.board]!;
    const holds = [
      describeHolding(b, plan.model.config.vocabSize),
      ...(c.board === 0 && tokenizerInImage ? ['tokenizer'] : []),
      ...(b.vocab ? ['samples'] : []),
    ];
    out.push(
      `| ${c.board} | ${holds.join(' + ')} | \`${[...c.overlays, `<this folder>/board-${c.board}/sdkconfig.ring`].join(';')}\` |`,
    );
  }
  out.push(
    '',
    '```sh',
    'idf.py -D SDKCONFIG_DEFAULTS="<the row\'s list>" set-target esp32s3 build',
    '```',
    '',
    `Board 0's image holds these settings (its story defaults, docs/image-format.md §4c): flash another board-0 image and the same app tells its story. Its \`sdkconfig.ring\` lists them commented out; a line uncommented overrides that setting in the app. ` +
      `Board 0's stories start with: prompt "${settings.prompt}", ${settings.steps} steps, temperature ${settings.temperature}, top-p ${settings.topp}, seed ${settings.seed} (story n: seed + n − 1), ${settings.parallel} at once. Type a line on its console for another prompt; \`/temperature T\`, \`/topp P\`, \`/seed S\`, \`/steps N\` change the next stories.`,
    '',
  );
  if (!tokenizerInImage)
    out.push(
      "Board 0's image holds no tokenizer section: the board needs one to take typed prompts and print text (tinypipe build --standalone stores the model's tokenizer there). Without it its default prompt is token ids (in `sdkconfig.ring`), and it prints token ids.",
      '',
    );
  out.push('## 2. Wire the ring', '');
  if (n === 1) out.push('One board: no wires (`ring-alone`).', '');
  else {
    out.push('| from | to |', '| ---- | -- |');
    for (const w of ringWires(n))
      out.push(`| board ${w.from.board} ${w.from.pin} | board ${w.to.board} ${w.to.pin} |`);
    out.push(
      `| GND of every board | joined |`,
      '',
      `Every line at ${plan.boards[0]!.profile.uartBaud} baud, 8N1; keep the wires short.`,
      '',
    );
  }
  out.push(
    '## 3. Flash and read the story',
    '',
    "Flash each app (`idf.py -p <its USB-to-UART port> flash`) and each board's model image",
    "(`tinypipe flash --build <this folder> --port <board 0's> --port <board 1's> …`), then unplug the computer from every board but board 0's",
    "USB port, or power the boards from chargers, and open board 0's console (`idf.py -p <its USB port>",
    'monitor`, or any serial terminal). It prints `ring: waiting for …` until every hop is up, then',
    `\`ring: ${n} board${n > 1 ? 's' : ''}, layers …, ready\` and the stories.`,
  );
  if (plan.boards.some((b) => b.profile.chip !== 'esp32s3'))
    out.push(
      '',
      'Note: the ESP-IDF port (ports/esp-idf) builds for the ESP32-S3 only; this plan names another chip.',
    );
  return `${out.join('\n')}\n`;
}
