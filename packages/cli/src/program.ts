import { Command } from 'commander';
import { registerBoards } from './commands/boards.js';
import { registerBuild } from './commands/build.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerDemo } from './commands/demo.js';
import { registerEval } from './commands/eval.js';
import { registerFlash } from './commands/flash.js';
import { registerGenerate } from './commands/generate.js';
import { registerImage } from './commands/image.js';
import { registerInspect } from './commands/inspect.js';
import { registerLinkSoak } from './commands/link-soak.js';
import { registerPlan } from './commands/plan.js';
import { registerPorts } from './commands/ports.js';
import { registerQuantize } from './commands/quantize.js';
import { registerSynth } from './commands/synth.js';
import { registerTokenize } from './commands/tokenize.js';
import type { CliContext } from './io/context.js';
import { addHelp, TinypipeHelp } from './io/help.js';

declare const __TINYPIPE_VERSION__: string;

/** Builds the `tinypipe` command tree. Output goes to `ctx`; nothing here exits the process. */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('tinypipe')
    .description('Run llama2.c models split by layers across several microcontrollers.')
    .version(typeof __TINYPIPE_VERSION__ === 'string' ? __TINYPIPE_VERSION__ : '0.0.0')
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: () => {}, // runCli prints one line with the USAGE code instead
    })
    .addHelpText('after', '\nAdd --debug to any command to print stack traces of errors.');

  registerInspect(program, ctx);
  registerTokenize(program, ctx);
  registerGenerate(program, ctx);
  registerSynth(program, ctx);
  registerQuantize(program, ctx);
  registerImage(program, ctx);
  registerEval(program, ctx);
  registerLinkSoak(program, ctx);
  registerPorts(program, ctx);
  registerPlan(program, ctx);
  registerBuild(program, ctx);
  registerFlash(program, ctx);
  registerBoards(program, ctx);
  registerCalibrate(program, ctx);
  registerDemo(program, ctx);

  const configure = (command: Command): void => {
    for (const sub of command.commands) {
      sub.exitOverride().configureOutput(program.configureOutput());
      configure(sub);
    }
  };
  configure(program);
  program.createHelp = () => Object.assign(new TinypipeHelp(), program.configureHelp());
  addHelp(program);
  return program;
}
