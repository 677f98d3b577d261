/**
 * The environment a server process starts with: a short allow-list inherited from the host agent
 * (as the MCP SDK's stdio transport and Claude Desktop do), the names `host.inheritEnv` adds, and
 * the server's own `env` from the config. Nothing else: not the gateway's token, not the values
 * `${VAR}` expanded into the config, not the cloud keys of the shell that started the agent.
 */

/** Inherited on every platform (names compared case-insensitively on Windows). */
const POSIX_NAMES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'LANG', 'TMPDIR', 'TZ'] as const;
const WINDOWS_NAMES = [
  'APPDATA',
  'HOMEDRIVE',
  'HOMEPATH',
  'LOCALAPPDATA',
  'PATH',
  'PATHEXT',
  'PROCESSOR_ARCHITECTURE',
  'SYSTEMDRIVE',
  'SYSTEMROOT',
  'TEMP',
  'TMP',
  'USERNAME',
  'USERPROFILE',
  'COMSPEC',
  'WINDIR',
  'PROGRAMFILES',
] as const;

/** The names a server process inherits by default on this platform. */
export const DEFAULT_INHERITED_ENV: readonly string[] = process.platform === 'win32' ? WINDOWS_NAMES : POSIX_NAMES;

/**
 * The child's environment: the inherited names that are set in `parent` (functions exported by
 * a shell, `BASH_FUNC_…%%`, are never inherited), then `inherit`, then the server's `own` values.
 */
export function childEnv(
  own: Readonly<Record<string, string>>,
  inherit: readonly string[] = [],
  parent: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Record<string, string> {
  const wanted = new Set([...(platform === 'win32' ? WINDOWS_NAMES : POSIX_NAMES), ...inherit].map((n) => (platform === 'win32' ? n.toUpperCase() : n)));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || value.startsWith('()')) continue;
    if (wanted.has(platform === 'win32' ? name.toUpperCase() : name)) env[name] = value;
  }
  return { ...env, ...own };
}
