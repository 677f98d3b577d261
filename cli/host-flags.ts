/**
 * The Node flags a process that runs a host agent (`host`, and `start`, which runs one beside
 * the local edge) starts itself again with. A large message makes native buffers on its way
 * through the agent (socket reads, the WebSocket's whole message, its encoded frame), and a
 * buffer's memory goes back only when V8 collects the JavaScript object that holds it. V8's young
 * generation grows to 16 MiB a half under load, so a busy agent collected them rarely, and glibc
 * kept the pages of the most that had been alive at once: the agents' RSS rose by 10 to 25 MiB
 * under rounds of large results while their JS heaps stayed flat. With a 1 MiB half the buffers
 * are collected within a few calls (docs/reliability.md, "The host agents' native memory").
 */
import { parseCliArgs } from './cli-args.ts';

export const HOST_NODE_FLAGS = ['--max-semi-space-size=1'] as const;

/** The commands whose process runs a host agent. */
const HOST_COMMANDS = new Set(['host', 'start']);

/**
 * The arguments to start this process again with (for `execve`, the Node binary first), or
 * undefined: not a host command, or already started with the flags, or a young generation size
 * chosen by whoever started it (on the command line or in NODE_OPTIONS), which is kept.
 */
export function hostRelaunch(execPath: string, execArgv: readonly string[], argv: readonly string[], nodeOptions: string | undefined): string[] | undefined {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv.slice(2));
  } catch {
    return undefined; // the CLI reports the mistake
  }
  if (!HOST_COMMANDS.has(parsed.command) || parsed.values.help || parsed.values.version) return undefined;
  if ([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((flag) => flag.startsWith('--max-semi-space-size'))) return undefined;
  return [execPath, ...HOST_NODE_FLAGS, ...execArgv, ...argv.slice(1)];
}

/**
 * Replaces this process with one started with the host flags, where needed and where Node can
 * (`process.execve`, Node 22.15 and 23.11 on): the same process id, standard streams and
 * environment. Call before anything else starts. Elsewhere, or if the system refuses, the
 * process goes on as it is.
 */
export function relaunchForHost(): void {
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (!execve || process.platform === 'win32') return;
  const args = hostRelaunch(process.execPath, process.execArgv, process.argv, process.env.NODE_OPTIONS);
  if (!args) return;
  try {
    execve(process.execPath, args, process.env);
  } catch {
    // Not started again (the system refused): the agent runs as it is, with Node's defaults.
  }
}
