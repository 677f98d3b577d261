#!/usr/bin/env node
/** Process entry: runs the CLI, turns user mistakes into one clear message, and stops cleanly on Ctrl-C. */
import { GatewayError } from '../shared/errors.ts';
import { relaunchForHost } from './host-flags.ts';
import { UserError } from './user-error.ts';

// Before the CLI's modules load: a host agent's process starts again with its Node flags.
relaunchForHost();
const { runCli } = await import('./cli.ts');

function fail(err: unknown): never {
  if (err instanceof UserError) process.stderr.write(err.format() + '\n');
  else if (err instanceof GatewayError) process.stderr.write(`error: ${err.message}\n`);
  else process.stderr.write(`mcp-gateway crashed (this is a bug):\n${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
}

try {
  const running = await runCli(process.argv.slice(2));
  if (running) {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\nstopping (${signal})\n`);
      await running.stop().catch(() => {});
      process.exit(0);
    };
    // Libraries under the local edge exit at once on these signals; this process stops its
    // server processes first, then the edge, so it takes the signals over.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.removeAllListeners(signal);
      process.on(signal, () => void stop(signal));
    }
    running.failed.catch(async (err) => {
      await running.stop().catch(() => {});
      fail(err);
    });
  }
} catch (err) {
  fail(err);
}
