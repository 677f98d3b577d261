import { describe, expect, it } from 'vitest';
import { childEnv } from './child-env.ts';

const parent = {
  PATH: '/usr/bin',
  HOME: '/home/me',
  LANG: 'C.UTF-8',
  MCP_GATEWAY_TOKEN: 'host-secret-token-123456',
  AWS_SECRET_ACCESS_KEY: 'cloud-key',
  MY_TOOL_HOME: '/opt/tool',
  BASH_FUNC_x: '() { echo hi; }',
};

describe('childEnv', () => {
  it('passes only the allow-list and the server’s own env', () => {
    const env = childEnv({ API_KEY: 'mine' }, [], parent, 'linux');
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/me', LANG: 'C.UTF-8', API_KEY: 'mine' });
  });

  it('adds the names host.inheritEnv lists, and the server’s own values win', () => {
    const env = childEnv({ HOME: '/srv' }, ['MY_TOOL_HOME', 'NOT_SET'], parent, 'linux');
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/srv', LANG: 'C.UTF-8', MY_TOOL_HOME: '/opt/tool' });
  });

  it('never inherits shell functions, even when named', () => {
    expect(childEnv({}, ['BASH_FUNC_x'], parent, 'linux')).not.toHaveProperty('BASH_FUNC_x');
  });

  it('compares names case-insensitively on Windows', () => {
    const env = childEnv({}, ['my_tool_home'], { Path: 'C:\\bin', SystemRoot: 'C:\\Windows', MY_TOOL_HOME: 'x', SECRET: 'y' }, 'win32');
    expect(env).toEqual({ Path: 'C:\\bin', SystemRoot: 'C:\\Windows', MY_TOOL_HOME: 'x' });
  });
});
