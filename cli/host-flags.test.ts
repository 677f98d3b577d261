import { describe, expect, it } from 'vitest';
import { HOST_GLIBC_TUNABLES, HOST_NODE_FLAGS, hostRelaunch } from './host-flags.ts';

const NODE = '/usr/bin/node';
const MAIN = '/app/bin/mcp-gateway.js';
const ENV = { PATH: '/usr/bin' };

describe('hostRelaunch', () => {
  it('starts a host agent again with its flags, keeping Node flags and arguments in order', () => {
    expect(hostRelaunch(NODE, ['--enable-source-maps'], [NODE, MAIN, 'host', '--edge', 'https://e.example', '--retry'], ENV, 'linux')?.args).toEqual([
      NODE,
      ...HOST_NODE_FLAGS,
      '--enable-source-maps',
      MAIN,
      'host',
      '--edge',
      'https://e.example',
      '--retry',
    ]);
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'start'], ENV, 'linux')?.args.slice(1, 1 + HOST_NODE_FLAGS.length)).toEqual([...HOST_NODE_FLAGS]);
    expect(hostRelaunch(NODE, [], [NODE, MAIN], ENV, 'linux')).toBeDefined(); // no command is `start`
  });

  it("on Linux, with glibc's allocator thresholds fixed and the rest of the environment kept", () => {
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'host'], ENV, 'linux')?.env).toEqual({ PATH: '/usr/bin', GLIBC_TUNABLES: HOST_GLIBC_TUNABLES });
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'host'], ENV, 'darwin')?.env).toEqual(ENV);
  });

  it('leaves every other process as it is', () => {
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'edge'], ENV, 'linux')).toBeUndefined();
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'config', 'check'], ENV, 'linux')).toBeUndefined();
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'host', '--help'], ENV, 'linux')).toBeUndefined();
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'host', '--no-such-flag'], ENV, 'linux')).toBeUndefined();
  });

  it('never twice, and never over sizes or allocator settings someone chose', () => {
    const again = hostRelaunch(NODE, [], [NODE, MAIN, 'host'], ENV, 'linux')!;
    expect(hostRelaunch(NODE, again.args.slice(1, 1 + HOST_NODE_FLAGS.length), [NODE, MAIN, 'host'], again.env, 'linux')).toBeUndefined();
    expect(hostRelaunch(NODE, ['--max-semi-space-size=8', '--initial-old-space-size=16'], [NODE, MAIN, 'host'], ENV, 'darwin')).toBeUndefined();
    // Node takes the young generation's size from NODE_OPTIONS, the old one's only on its command line (either spelling).
    expect(hostRelaunch(NODE, ['--initial_old_space_size=32'], [NODE, MAIN, 'host'], { NODE_OPTIONS: '--inspect --max-semi-space-size=4' }, 'darwin')).toBeUndefined();
    // Their young generation stays; the old generation's first limit and the allocator's settings are still added.
    expect(hostRelaunch(NODE, ['--max-semi-space-size=8'], [NODE, MAIN, 'host'], ENV, 'linux')).toEqual({
      args: [NODE, '--initial-old-space-size=64', '--max-semi-space-size=8', MAIN, 'host'],
      env: { PATH: '/usr/bin', GLIBC_TUNABLES: HOST_GLIBC_TUNABLES },
    });
    // And the other way round: their old generation's, with the young generation's size added.
    expect(hostRelaunch(NODE, ['--initial-old-space-size=128'], [NODE, MAIN, 'host'], ENV, 'darwin')?.args).toEqual([NODE, '--max-semi-space-size=1', '--initial-old-space-size=128', MAIN, 'host']);
    // Their own GLIBC_TUNABLES stays as it is.
    const theirs = { ...ENV, GLIBC_TUNABLES: 'glibc.malloc.arena_max=1' };
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'host'], theirs, 'linux')?.env).toBe(theirs);
  });
});
