#!/usr/bin/env node
/**
 * `collab` — one entry point for running and operating the editor backend. Every subcommand has --help.
 */
import { Command } from 'commander';
import { registerServe } from './commands/serve.js';
import { registerToken } from './commands/token.js';

const program = new Command();
program
  .name('collab')
  .description('Real-time collaborative text editing backend: run it, operate it, inspect documents.')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: true });

registerServe(program);
registerToken(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`collab: ${(err as Error).message}`);
  process.exit(1);
});
