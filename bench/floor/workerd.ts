/**
 * The floor's workerd: the same binary as the gateway's local edge, started the same way
 * (`serve --experimental --control-fd=3`, killed with its parent by `setpriv --pdeathsig`), and
 * the port it listens on, read from its control pipe. No esbuild here: the relay process
 * (bench/floor/relay.ts) imports this and should stay small.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { SOCKET_NAME } from '../../local/workerd-config.ts';

const SETPRIV = '/usr/bin/setpriv';

/** A command line that the kernel kills (SIGKILL) when this process dies, however it ends (Linux, with setpriv). */
export function diesWithParent(command: string, args: string[]): [string, string[]] {
  return existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

/** Starts workerd on a config file; its stdout and stderr as given, fd 3 is its control pipe. */
export function spawnWorkerd(configFile: string, output: 'inherit' | 'ignore' = 'inherit'): ChildProcess {
  const workerd = (createRequire(import.meta.url)('workerd') as { default: string }).default;
  // As the local edge: workerd dies with this process.
  const [command, argv] = diesWithParent(workerd, ['serve', '--experimental', '--control-fd=3', configFile]);
  const stdio: StdioOptions = ['ignore', output, output, 'pipe'];
  return spawn(command, argv, { stdio });
}

/** The port of workerd's HTTP socket, once it listens. */
export function listening(child: ChildProcess, timeoutMs = 20_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the floor's workerd did not listen within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the floor's workerd exited (${signal ?? code})`));
    });
    createInterface({ input: child.stdio[3] as Readable }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { event?: string; socket?: string; port?: number };
        if (m.event === 'listen' && m.socket === SOCKET_NAME && typeof m.port === 'number') {
          clearTimeout(timer);
          resolve(m.port);
        }
      } catch { /* not ours */ }
    });
  });
}
