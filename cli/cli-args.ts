/** The command line's words: commands, their options and help, parsed strictly with node:util. */
import { parseArgs } from 'node:util';
import { UserError } from './user-error.ts';

export const VERSION = '0.1.0';

/** Every option, with its help line. */
const OPTIONS = {
  config: { type: 'string', help: '--config <file>     config file (default: $CONFIG_PATH or ./config.yaml); a Claude Desktop claude_desktop_config.json works too' },
  edge: { type: 'string', help: "--edge <url>        the edge's URL, e.g. https://mcp-gateway.you.workers.dev (or $MCP_GATEWAY_EDGE)" },
  state: { type: 'string', help: "--state <dir>       keep the edge's storage (sessions, routes) in <dir> across restarts" },
  token: { type: 'string', help: '--token <token>     a host token (host: or $MCP_GATEWAY_TOKEN; edge: or $HOST_TOKEN, besides hostTokens)' },
  'host-id': { type: 'string', help: "--host-id <id>      this machine's name at the edge (default: host.id, or the OS hostname)" },
  retry: { type: 'boolean', help: "--retry             keep retrying when the edge cannot be reached at start (default: exit with the error)" },
  watch: { type: 'boolean', help: '--no-watch          do not apply config file changes while running (default: watch and apply)' },
  format: { type: 'string', help: '--format yaml|json  output format (default: yaml)' },
  'dry-run': { type: 'boolean', help: '--dry-run           bundle and check the Worker (wrangler deploy --dry-run); upload nothing, set no secrets' },
  outdir: { type: 'string', help: '--outdir <dir>      where --dry-run writes the bundle (default: a new temp folder)' },
  open: { type: 'boolean', help: '--open              serve (or deploy) without auth on purpose: an API anyone who reaches it can call' },
  schemaDump: { type: 'boolean', help: '--schemaDump        print the OpenAPI document and exit (as the original)' },
  schemaFormat: { type: 'string', help: '--schemaFormat json with --schemaDump: JSON instead of YAML' },
  help: { type: 'boolean', short: 'h', help: '-h, --help          help (of a command: mcp-gateway <command> --help)' },
  version: { type: 'boolean', short: 'v', help: '-v, --version       the version' },
} as const;
type OptionName = keyof typeof OPTIONS;

interface CommandSpec {
  usage: string;
  summary: string;
  options: OptionName[];
  more?: string;
}

const COMMANDS: Record<string, CommandSpec> = {
  start: {
    usage: 'mcp-gateway [start] [--config <file>] [--host-id <id>] [--no-watch] [--open]',
    summary: 'the edge (on workerd) and a host agent on this machine, from config.yaml',
    options: ['config', 'host-id', 'watch', 'state', 'schemaDump', 'schemaFormat', 'open'],
    more:
      'Prints the URLs when ready. Ctrl-C stops the edge, the host agent and every server process.\nServer changes in the config file apply while it runs (--no-watch: not).\n' +
      'Without an auth section it listens only on a loopback hostname, unless --open.',
  },
  edge: {
    usage: 'mcp-gateway edge [--token <host-token>] [--state <dir>] [--config <file>] [--open]',
    summary: 'only the edge, on this machine, for host agents elsewhere',
    options: ['config', 'token', 'state', 'open'],
    more: 'Host agents connect with --token or one of hostTokens in config.yaml.\nWithout --state, the edge starts empty each time.',
  },
  host: {
    usage: 'mcp-gateway host --edge <url> --token <host-token> [--host-id <id>] [--retry] [--config <file>]',
    summary: "only the host agent: runs config.yaml's servers for an edge elsewhere",
    options: ['config', 'edge', 'token', 'host-id', 'retry', 'watch'],
    more:
      'If the first connection fails (nothing listening, unknown name, not a gateway), it exits with\n' +
      'the error, unless --retry. Once connected, it reconnects by itself after any drop.\n' +
      'Server changes in the config file apply while it runs (--no-watch: not).',
  },
  schema: {
    usage: 'mcp-gateway schema [--format yaml|json] [--config <file>]',
    summary: "print the OpenAPI document for config.yaml's servers (also: --schemaDump [--schemaFormat json])",
    options: ['config', 'format'],
  },
  config: {
    usage: 'mcp-gateway config check [--config <file>]',
    summary: 'check the config file: a summary of what it sets up, or every error with its line',
    options: ['config'],
    more: 'Exits 1 when the file has errors.',
  },
  deploy: {
    usage: 'mcp-gateway deploy [--dry-run [--outdir <dir>]] [--open] [--config <file>] [-- <more wrangler deploy arguments>]',
    summary: 'deploy the edge to Cloudflare (wrangler deploy), and set its secrets HOST_TOKENS and CLIENT_AUTH from config.yaml',
    options: ['config', 'dry-run', 'outdir', 'open'],
    more: 'Needs `npx wrangler login` (or CLOUDFLARE_API_TOKEN) first, except --dry-run. See docs/deploy.md.',
  },
  oauth: {
    usage: 'mcp-gateway oauth list | revoke [--] <grant-id> [--edge <url>] [--config <file>]',
    summary: 'the applications signed in over OAuth (list), and signing one out (revoke)',
    options: ['config', 'edge'],
    more: "Asks the gateway (--edge, else publicUrl, else config.yaml's own address) with config.yaml's credentials.\nA grant id that starts with `-` goes after `--`: mcp-gateway oauth revoke -- -AbC123.",
  },
};

const GLOBAL_OPTIONS: OptionName[] = ['help', 'version'];

export const HELP = `mcp-gateway ${VERSION}: STDIO MCP servers behind one URL

Usage:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}\n      ${c.summary}`)
  .join('\n')}
  mcp-gateway <command> --help
      that command's options

Options:
  ${OPTIONS.config.help}
  ${OPTIONS.help.help}
  ${OPTIONS.version.help}
`;

/** The help of one command. */
export function commandHelp(name: string): string {
  const spec = COMMANDS[name];
  if (!spec) return HELP;
  const options = [...spec.options, ...GLOBAL_OPTIONS].filter((o) => !(name === 'start' && (o === 'schemaDump' || o === 'schemaFormat')));
  return `mcp-gateway ${name}: ${spec.summary}

Usage:
  ${spec.usage}
${spec.more ? `\n${spec.more}\n` : ''}
Options:
${options.map((o) => `  ${OPTIONS[o].help}`).join('\n')}
`;
}


export interface ParsedArgs {
  values: { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };
  command: string;
  /** Whether the command was named (not the default `start`). */
  named: boolean;
  /** Positionals after the command (before `--`). */
  rest: string[];
  /** Arguments after `--`. */
  passThrough: string[];
}


export function parseCliArgs(argv: string[]): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries(OPTIONS).map(([name, o]) => [name, { type: o.type, ...('short' in o ? { short: o.short } : {}) }]),
  ) as { [K in OptionName]: { type: 'string' | 'boolean'; short?: string } };
  // The command, for messages about its options: the first argument that is not an option or its value.
  const guess = argv.find((a, i) => !a.startsWith('-') && !(i > 0 && /^--(config|edge|token|host-id|format|outdir|schemaFormat)$/.test(argv[i - 1]!)));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, allowNegative: true, tokens: true, options });
  } catch (err) {
    const e = err as Error & { code?: string };
    const command = guess && COMMANDS[guess] ? guess : undefined;
    const name = /'(-[^' ]+)/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name) {
      throw new UserError(`unknown option ${name}`, optionsOf(command), `run mcp-gateway ${command ? `${command} ` : ''}--help`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && name) {
      throw new UserError(`${name} needs a value`, e.message, `pass ${name} <value>`);
    }
    throw new UserError(e.message, '', 'run mcp-gateway --help');
  }
  const terminator = parsed.tokens.find((t) => t.kind === 'option-terminator')?.index ?? Infinity;
  const before = parsed.tokens.filter((t) => t.kind === 'positional' && t.index < terminator).map((t) => (t as { value: string }).value);
  const passThrough = parsed.tokens.filter((t) => t.kind === 'positional' && t.index > terminator).map((t) => (t as { value: string }).value);
  const values = parsed.values as ParsedArgs['values'];
  // `--schemaDump` (the original's flag) turns `start`, written or implied, into `schema`:
  // `npm start -- --schemaDump` runs `mcp-gateway start --schemaDump`.
  const dumpFrom = before[0] === 'start' || before[0] === 'schema' ? before.slice(1) : before;
  const command = values.schemaDump ? 'schema' : (before[0] ?? 'start');
  const rest = values.schemaDump ? dumpFrom : before.slice(1);
  if (command !== 'help' && COMMANDS[command] && !values.help) {
    const allowed = new Set<string>([...COMMANDS[command]!.options, ...GLOBAL_OPTIONS, ...(values.schemaDump ? ['schemaDump', 'schemaFormat'] : [])]);
    for (const token of parsed.tokens) {
      if (token.kind === 'option' && !allowed.has(token.name)) {
        throw new UserError(`${token.rawName} does not apply to mcp-gateway ${command}`, optionsOf(command), `run mcp-gateway ${command} --help`);
      }
    }
  }
  return { values, command, named: before.length > 0, rest, passThrough };
}

export function optionsOf(command: string | undefined): string {
  const names = command ? COMMANDS[command]!.options.filter((o) => o !== 'schemaDump' && o !== 'schemaFormat') : (Object.keys(OPTIONS) as OptionName[]);
  const shown = [...names, ...(command ? GLOBAL_OPTIONS : [])].map((o) => (o === 'watch' ? '--no-watch' : `--${o}`));
  return `${command ? `mcp-gateway ${command}` : 'mcp-gateway'} takes: ${shown.join(', ')}`;
}

export function knownCommand(name: string): string {
  if (!COMMANDS[name]) throw unknownCommand(name);
  return name;
}

export function unknownCommand(name: string): UserError {
  const close = Object.keys(COMMANDS).find((c) => editDistance(c, name) <= 2);
  return new UserError(`unknown command "${name}"${close ? ` (did you mean "${close}"?)` : ''}`, `commands: ${Object.keys(COMMANDS).join(', ')}`, 'run mcp-gateway --help');
}

export function unexpected(argument: string, command: string): never {
  throw new UserError(`unexpected argument "${argument}"`, `usage: ${COMMANDS[command]?.usage ?? 'mcp-gateway --help'}`, `run mcp-gateway ${command} --help`);
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

export function requireOption(value: string | undefined, flag: string, what: string): string {
  if (!value) throw new UserError(`${flag} is required`, `${flag} gives ${what}`, `pass ${flag} <value>`);
  return value;
}

