/**
 * The Node flags a process that runs a host agent (`host`, and `start`, which runs one beside
 * the local edge) starts itself again with. A large message makes native buffers on its way
 * through the agent (socket reads, the WebSocket's whole message, its encoded frame), and a
 * buffer's memory goes back only when V8 collects the JavaScript object that holds it. V8's young
 * generation grows to 16 MiB a half under load, so a busy agent collected them rarely, and glibc
 * kept the pages of the most that had been alive at once: the agents' RSS rose by 10 to 25 MiB
 * under rounds of large results while their JS heaps stayed flat. With a 1 MiB half the buffers
 * are collected within a few calls (docs/reliability.md, "The host agents' native memory").
 *
 * With so small a young generation, a string too large for it (a MiB-sized message's text, and
 * what JSON.parse makes of it) is made in the old generation at once. V8 sets the old
 * generation's first limit a few MiB above what is alive after a full collection, so nearly every
 * 1 MiB message cost a full collection of the agent's 14 MiB heap: about half of the agent's CPU
 * on a 1 MiB echo. `--initial-old-space-size=64` starts that limit at 64 MiB: the agent's CPU per
 * 1 MiB echo about halves (13.6 to 18.7 ms -> 7.6 to 8.2). The price is memory after bursts of
 * large messages (RSS 133 to 136 MiB after 60 1 MiB echoes, against 87 to 109), which then stays
 * level; smaller sizes trade less of each (bench/README.md, "Large messages and the old
 * generation").
 *
 * On Linux the process also starts with fixed thresholds for glibc's allocator. By default each
 * mapped block freed (128 KiB and up) raises the size from which blocks are mapped and the size
 * past which the heap's free top goes back to the system (up to 32 MiB and 64 MiB), so the heap
 * keeps more and more of what large messages used. Set, the thresholds stay put: blocks under
 * 4 MiB (a large message's buffers) come from the heap, which gives its free top back past
 * 128 KiB, and larger ones are mapped on their own. Mapping every block from 128 KiB on kept the
 * RSS lower still but cost the agent 2 to 3 ms of CPU per 1 MiB echo in page faults
 * (docs/reliability.md, "The allocators").
 */
import { parseCliArgs } from './cli-args.ts';

export const HOST_NODE_FLAGS = ['--max-semi-space-size=1', '--initial-old-space-size=64'] as const;

/** glibc's allocator settings (read by glibc when a process starts; other C libraries ignore them). */
export const HOST_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=131072';

export interface HostRelaunch {
  /** For `execve`: the Node binary first. */
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** The commands whose process runs a host agent. */
const HOST_COMMANDS = new Set(['host', 'start']);

/**
 * How to start this process again (the same arguments, with the host flags and the allocator's
 * settings added where missing), or undefined: not a host command, or nothing missing. A size
 * of either generation chosen by whoever started it is kept (on the command line; the young
 * generation's also from NODE_OPTIONS, where Node refuses the old one's), and so is a
 * GLIBC_TUNABLES of their own.
 */
export function hostRelaunch(
  execPath: string,
  execArgv: readonly string[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): HostRelaunch | undefined {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv.slice(2));
  } catch {
    return undefined; // the CLI reports the mistake
  }
  if (!HOST_COMMANDS.has(parsed.command) || parsed.values.help || parsed.values.version) return undefined;
  // Node takes V8's flags with dashes or underscores.
  const chosen = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map((flag) => flag.replace(/_/g, '-'));
  const missing = HOST_NODE_FLAGS.filter((flag) => !chosen.some((c) => c.startsWith(flag.slice(0, flag.indexOf('=')))));
  const tunablesWanted = platform === 'linux' && env.GLIBC_TUNABLES === undefined;
  if (missing.length === 0 && !tunablesWanted) return undefined;
  return {
    args: [execPath, ...missing, ...execArgv, ...argv.slice(1)],
    env: tunablesWanted ? { ...env, GLIBC_TUNABLES: HOST_GLIBC_TUNABLES } : env,
  };
}

/**
 * Replaces this process with one started with the host flags and allocator settings, where
 * needed and where Node can (`process.execve`, Node 22.15 and 23.11 on): the same process id and
 * standard streams. Call before anything else starts. Elsewhere, or if the system refuses, the
 * process goes on as it is.
 */
export function relaunchForHost(): void {
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (!execve || process.platform === 'win32') return;
  const relaunch = hostRelaunch(process.execPath, process.execArgv, process.argv, process.env);
  if (!relaunch) return;
  try {
    execve(process.execPath, relaunch.args, relaunch.env);
  } catch {
    // Not started again (the system refused): the agent runs as it is, with Node's defaults.
  }
}
