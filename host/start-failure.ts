/**
 * Why a server failed to start, from what the OS and the process reported (an errno, an exit
 * code, the gateway's own error code), never from message text; the CLI's fix hints are keyed
 * by it.
 */
import { GatewayError } from '../shared/errors.ts';

export type StartCause = 'not-found' | 'not-executable' | 'exited' | 'no-initialize';

/** How a server process ended: a spawn error's errno, or its exit code or signal. */
export interface ProcessEnd {
  /** The spawn failed (the process never ran). */
  spawnFailed: boolean;
  errno?: string | undefined;
  exitCode?: number | null | undefined;
  signal?: string | null | undefined;
}

/** SPAWN_FAILED, with the cause the fix hint is chosen by. */
export class StartError extends GatewayError {
  readonly why: StartCause;

  constructor(why: StartCause, message: string) {
    super('SPAWN_FAILED', message);
    this.why = why;
  }
}

/**
 * The cause of a failed start: the process's end if it ended (126 and 127 are what a launcher
 * such as setpriv, or a shell, exits with for a command not executable or not found), else the
 * handshake's failure.
 */
export function startCause(end: ProcessEnd | undefined): StartCause {
  if (!end) return 'no-initialize';
  if (end.errno === 'ENOENT' || end.exitCode === 127) return 'not-found';
  if (end.errno === 'EACCES' || end.exitCode === 126) return 'not-executable';
  return 'exited';
}
