/** The header of a run: the machine, the versions in play, and the gateway's processes. */
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clockTicksPerSecond, gatewayRoles, readProc } from './proc.ts';

export function describeRun(root: string, gatewayPid: number, serverMarker: string): string {
  const cpus = os.cpus();
  const roles = gatewayRoles(gatewayPid, serverMarker);
  const edgePid = [...roles].find(([, r]) => r === 'edge')?.[0];
  let workerd = 'workerd unknown';
  try {
    if (edgePid) workerd = execFileSync(readlinkSync(`/proc/${edgePid}/exe`), ['--version'], { encoding: 'utf8' }).trim();
  } catch { /* keep unknown */ }
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).trim()) commit += ' (with uncommitted changes)';
  } catch { /* not a checkout */ }
  const processes = [...roles].map(([pid, role]) => `${role} ${readProc(pid)?.comm ?? '?'}[${pid}]`).join(', ');
  return [
    `machine: ${cpus.length} CPUs, ${cpus[0]?.model ?? 'unknown model'}, ${os.type()} ${os.release()}, load avg ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`,
    `node ${process.version}; ${workerd}; server-everything ${version('@modelcontextprotocol/server-everything')}; gateway ${commit}`,
    `gateway processes: ${processes}; CPU per call from each thread's /proc schedstat (ns; /proc/<pid>/stat at ${clockTicksPerSecond()} ticks/s where there is none)`,
  ].join('\n');
}
