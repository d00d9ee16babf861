/**
 * What `--help` adds to commander's: the accepted values of enum flags, which flags are required, and an
 * example per command (`Example:` after the options).
 */
import { type Command, Help, type Option } from 'commander';

/** One runnable example per command, by its path (`image inspect`). */
export const EXAMPLES: Readonly<Record<string, string>> = {
  inspect: 'tinypipe inspect stories15M.bin',
  tokenize: 'tinypipe tokenize --tokenizer tok512.bin --text "Once upon a time" --bos',
  generate: 'tinypipe generate --prompt "Once upon a time" --steps 64 --seed 1',
  synth: 'tinypipe synth --shape 15M --seed 1 --out stories15M-synth.bin',
  quantize: 'tinypipe quantize --model stories15M.bin --weights q8 --out stories15M-q8.img',
  image: 'tinypipe image inspect stories15M-q8.img',
  'image inspect': 'tinypipe image inspect stories15M-q8.img',
  eval: 'tinypipe eval --quant q4 --quant q8 --steps 64',
  'link-soak': 'tinypipe link-soak --frames 2000 --ber 1e-4 --baud 921600',
  ports: 'tinypipe ports',
  plan: 'tinypipe plan --model synth:15M --boards esp32s3-n16r8,esp32s3-n16r8 --out plan.json',
  build: 'tinypipe build --plan plan.json --out build',
  flash: 'tinypipe flash --build build --port /dev/ttyACM0 --port /dev/ttyACM1',
  boards: 'tinypipe boards --port /dev/ttyACM0',
  calibrate: 'tinypipe calibrate --port /dev/ttyACM0 --out measured.json',
  demo: 'tinypipe demo --boards 2 --steps 64',
};

/** What `enumFlag` attaches to its parser, so help can list the choices. */
export interface WithChoices {
  readonly choices?: readonly string[];
}

function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Help that marks required flags. */
export class TinypipeHelp extends Help {
  override optionDescription(option: Option): string {
    const text = super.optionDescription(option);
    return option.mandatory ? `${text} (required)` : text;
  }
}

/** Adds the examples to `program`'s commands (and theirs), enum flags' choices, and the help above. */
export function addHelp(program: Command): void {
  const visit = (command: Command) => {
    for (const sub of command.commands) {
      for (const option of sub.options) {
        const choices = (option.parseArg as WithChoices | undefined)?.choices;
        if (choices && !option.argChoices) option.argChoices = [...choices]; // shown by help only
      }
      sub.createHelp = () => Object.assign(new TinypipeHelp(), sub.configureHelp());
      const example = EXAMPLES[pathOf(sub)];
      if (example) sub.addHelpText('after', `\nExample:\n  $ ${example}\n`);
      visit(sub);
    }
  };
  visit(program);
}
