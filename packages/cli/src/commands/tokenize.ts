import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { loadTokenizer } from '../io/models.js';
import { uintFlag } from '../io/options.js';

interface TokenizeFlags {
  tokenizer?: string;
  text: string;
  vocab?: number;
  bos?: boolean;
  eos?: boolean;
  json?: boolean;
}

export function registerTokenize(program: Command, ctx: CliContext): void {
  program
    .command('tokenize')
    .description('encode text with a llama2.c tokenizer.bin exactly as llama2.c does')
    .option(
      '--tokenizer <path>',
      'llama2.c tokenizer file (default: the bundled tok512.bin, or tokenizer.bin with --vocab 32000)',
    )
    .requiredOption('--text <text>', 'the text to encode')
    .option('--vocab <n>', 'vocabulary size (default: inferred from the file)', uintFlag('--vocab'))
    .option('--bos', 'prepend the BOS token (1)')
    .option('--eos', 'append the EOS token (2)')
    .option('--json', 'print {"tokens": [...]} (the default output is the same JSON on one line)')
    .action(async (flags: TokenizeFlags) => {
      const tokenizer = await loadTokenizer(ctx, flags.tokenizer, flags.vocab);
      const tokens = tokenizer.encode(flags.text, { bos: flags.bos === true, eos: flags.eos === true });
      if (flags.json) printJson(ctx, { tokens });
      else ctx.stdout.write(`${JSON.stringify({ tokens })}\n`);
    });
}
