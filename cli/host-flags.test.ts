import { describe, expect, it } from 'vitest';
import { HOST_NODE_FLAGS, hostRelaunch } from './host-flags.ts';

const NODE = '/usr/bin/node';
const MAIN = '/app/bin/mcp-gateway.js';

describe('hostRelaunch', () => {
  it('starts a host agent again with its flags, keeping Node flags and arguments in order', () => {
    expect(hostRelaunch(NODE, ['--enable-source-maps'], [NODE, MAIN, 'host', '--edge', 'https://e.example', '--retry'], undefined)).toEqual([
      NODE,
      ...HOST_NODE_FLAGS,
      '--enable-source-maps',
      MAIN,
      'host',
      '--edge',
      'https://e.example',
      '--retry',
    ]);
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'start'], undefined)?.slice(1, 1 + HOST_NODE_FLAGS.length)).toEqual([...HOST_NODE_FLAGS]);
    expect(hostRelaunch(NODE, [], [NODE, MAIN], undefined)).toBeDefined(); // no command is `start`
  });

  it('leaves every other process as it is', () => {
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'edge'], undefined)).toBeUndefined();
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'config', 'check'], undefined)).toBeUndefined();
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'host', '--help'], undefined)).toBeUndefined();
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'host', '--no-such-flag'], undefined)).toBeUndefined();
  });

  it('never twice, and never over a size someone chose', () => {
    const again = hostRelaunch(NODE, [], [NODE, MAIN, 'host'], undefined)!;
    expect(hostRelaunch(NODE, again.slice(1, 1 + HOST_NODE_FLAGS.length), [NODE, MAIN, 'host'], undefined)).toBeUndefined();
    expect(hostRelaunch(NODE, ['--max-semi-space-size=8'], [NODE, MAIN, 'host'], undefined)).toBeUndefined();
    expect(hostRelaunch(NODE, [], [NODE, MAIN, 'host'], '--inspect --max-semi-space-size=4')).toBeUndefined();
  });
});
