/** Edge logs: one JSON object per line. Callers pass no secrets; fields named like secrets are masked anyway. */
const SECRET_FIELD = /authorization|password|token|secret|cookie/i;

export function edgeLog(level: 'error' | 'warn' | 'info' | 'debug', message: string, fields: Record<string, unknown> = {}): void {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) safe[key] = SECRET_FIELD.test(key) ? '[redacted]' : value;
  const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...safe });
  if (level === 'error' || level === 'warn') console.error(line);
  else if (level === 'info') console.log(line);
}
