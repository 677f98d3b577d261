/**
 * MCP conformance, side by side: the official server suite (@modelcontextprotocol/conformance)
 * against server-everything on its own Streamable HTTP transport ("direct"), then against the
 * same server behind the gateway (`node host/main.ts start`, stdio server, /everything/mcp).
 *
 *   npm run conformance
 *   npm run conformance -- --out results/        # keep the suite's output (checks.json per scenario)
 *   npm run conformance -- --timeout 600         # seconds per suite run (default 300)
 *   npm run conformance -- --suite all           # active + pending scenarios
 *
 * Prints a summary per target and every check whose status differs. Exit status: 0 when the
 * gateway fails nothing that passes directly and passes the DNS-rebinding check; 1 when it does
 * not; 2 when the comparison could not be made (a target did not start, a suite run timed out).
 * See docs/conformance.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deadline, freePort, startProc, type Proc } from './procs.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODULES = path.join(ROOT, 'node_modules');
const CONFORMANCE_BIN = path.join(MODULES, '@modelcontextprotocol/conformance/dist/index.js');
const EVERYTHING_BIN = path.join(MODULES, '@modelcontextprotocol/server-everything/dist/index.js');
/** The check the suite's dns-rebinding-protection scenario makes with a foreign Host and Origin. */
const DNS_REBINDING_CHECK = 'localhost-host-rebinding-rejected';
const START_TIMEOUT_MS = 60_000;

type Status = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;

interface Check {
  id: string;
  status: Status;
  errorMessage?: string;
}

interface TargetResult {
  name: string;
  url: string;
  /** Scenario name → its checks, as the suite wrote them. */
  scenarios: Map<string, Check[]>;
  /** Scenarios the suite said it would run. */
  planned: string[];
  exit: { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean };
  seconds: number;
}

/** Failures of the harness itself (not of a target): exit status 2. */
class HarnessError extends Error {}

interface Options {
  out: string | undefined;
  timeoutMs: number;
  suite: string;
  specVersion: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', short: 'o' },
      timeout: { type: 'string', default: '300' },
      suite: { type: 'string', default: 'active' },
      'spec-version': { type: 'string', default: '2025-11-25' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run conformance -- [--out DIR] [--timeout SECONDS] [--suite active|all|pending] [--spec-version 2025-11-25]\n');
    process.exit(0);
  }
  const seconds = Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new HarnessError(`--timeout must be a positive number of seconds, not ${values.timeout}`);
  return { out: values.out, timeoutMs: seconds * 1000, suite: values.suite!, specVersion: values['spec-version']! };
}

// ---------------------------------------------------------------------------------------------
// Targets

const procs: Proc[] = [];

async function startDirect(dir: string): Promise<string> {
  const port = await freePort();
  const proc = startProc('server-everything (streamableHttp)', process.execPath, [EVERYTHING_BIN, 'streamableHttp'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    logFile: path.join(dir, 'direct-server.log'),
  });
  procs.push(proc);
  await proc.waitFor(/listening on port (\d+)/, START_TIMEOUT_MS);
  return `http://127.0.0.1:${port}/mcp`;
}

async function startGateway(dir: string): Promise<string> {
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    [
      'hostname: 127.0.0.1',
      'port: 0',
      'debug: { level: warn }',
      'servers:',
      '  everything:',
      // This Node, not whichever `node` is first on PATH.
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: ${JSON.stringify([EVERYTHING_BIN, 'stdio'])}`,
      '',
    ].join('\n'),
  );
  const proc = startProc('gateway', process.execPath, [path.join(ROOT, 'host/main.ts'), 'start', '--config', config], {
    cwd: ROOT,
    logFile: path.join(dir, 'gateway.log'),
  });
  procs.push(proc);
  const match = await proc.waitFor(/MCP gateway ready at (http:\/\/\S+)/, START_TIMEOUT_MS);
  return `${match[1]!.replace(/\/$/, '')}/everything/mcp`;
}

// ---------------------------------------------------------------------------------------------
// The suite

async function runSuite(name: string, url: string, dir: string, opts: Options): Promise<TargetResult> {
  const outDir = path.join(dir, name);
  mkdirSync(outDir, { recursive: true });
  const args = [CONFORMANCE_BIN, 'server', '--url', url, '--suite', opts.suite, '--spec-version', opts.specVersion, '-o', outDir];
  process.stderr.write(`running the server suite (--suite ${opts.suite}, --spec-version ${opts.specVersion}) against ${name}: ${url}\n`);
  const started = Date.now();
  const proc = startProc(`conformance (${name})`, process.execPath, args, { cwd: ROOT, logFile: path.join(dir, `${name}-suite.log`) });
  procs.push(proc);
  const timedOut = await Promise.race([proc.exited.then(() => false), deadline(opts.timeoutMs).then(() => true)]);
  if (timedOut) await proc.stop(2000);
  const exit = await proc.exited;
  await Promise.race([proc.drained, deadline(2000)]);
  const planned = [...proc.output().matchAll(/^=== Running scenario: (.+?) ===$/gm)].map((m) => m[1]!);
  const result: TargetResult = {
    name,
    url,
    scenarios: readChecks(outDir),
    planned,
    exit: { ...exit, timedOut },
    seconds: (Date.now() - started) / 1000,
  };
  if (timedOut) process.stderr.write(`  timed out after ${opts.timeoutMs / 1000} s: results are partial\n`);
  process.stderr.write(`  ${result.scenarios.size} scenarios in ${result.seconds.toFixed(1)} s\n`);
  return result;
}

/** The suite writes <out>/server-<scenario>-<ISO time with : and . as ->/checks.json. */
function readChecks(outDir: string): Map<string, Check[]> {
  const scenarios = new Map<string, Check[]>();
  for (const rel of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
    if (path.basename(rel) !== 'checks.json') continue;
    const scenario = path
      .dirname(rel)
      .split(path.sep)
      .join('/')
      .replace(/^server-/, '')
      .replace(/-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/, '');
    const checks = JSON.parse(readFileSync(path.join(outDir, rel), 'utf8')) as Check[];
    scenarios.set(scenario, [...(scenarios.get(scenario) ?? []), ...checks]);
  }
  return scenarios;
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** `scenario/check-id`, with `#2`, `#3`… for a check id a scenario reports more than once. */
function keyed(result: TargetResult): Map<string, Check> {
  const out = new Map<string, Check>();
  for (const [scenario, checks] of [...result.scenarios].sort(([a], [b]) => a.localeCompare(b))) {
    const seen = new Map<string, number>();
    for (const check of checks) {
      const n = (seen.get(check.id) ?? 0) + 1;
      seen.set(check.id, n);
      out.set(`${scenario}/${check.id}${n > 1 ? `#${n}` : ''}`, check);
    }
  }
  return out;
}

interface Summary {
  scenarios: number;
  scenariosPassed: number;
  missing: string[];
  checks: number;
  counts: Record<string, number>;
}

function summarize(result: TargetResult): Summary {
  const counts: Record<string, number> = { SUCCESS: 0, FAILURE: 0, WARNING: 0, INFO: 0 };
  let checks = 0;
  let scenariosPassed = 0;
  for (const list of result.scenarios.values()) {
    if (list.every((c) => c.status !== 'FAILURE')) scenariosPassed++;
    for (const c of list) {
      checks++;
      counts[c.status] = (counts[c.status] ?? 0) + 1;
    }
  }
  const missing = result.planned.filter((s) => !result.scenarios.has(s));
  return { scenarios: result.scenarios.size, scenariosPassed, missing, checks, counts };
}

interface Difference {
  key: string;
  direct: Check | undefined;
  gateway: Check | undefined;
  /** Passes directly, fails (or is missing) through the gateway. */
  regression: boolean;
}

function compare(direct: TargetResult, gateway: TargetResult): { differences: Difference[]; sameStatusOtherMessage: Difference[] } {
  const d = keyed(direct);
  const g = keyed(gateway);
  const keys = [...new Set([...d.keys(), ...g.keys()])].sort();
  const differences: Difference[] = [];
  const sameStatusOtherMessage: Difference[] = [];
  for (const key of keys) {
    const a = d.get(key);
    const b = g.get(key);
    if (a?.status !== b?.status) {
      differences.push({ key, direct: a, gateway: b, regression: a?.status === 'SUCCESS' && (b === undefined || b.status === 'FAILURE') });
    } else if (a && b && a.status !== 'SUCCESS' && a.status !== 'INFO' && (a.errorMessage ?? '') !== (b.errorMessage ?? '')) {
      sameStatusOtherMessage.push({ key, direct: a, gateway: b, regression: false });
    }
  }
  return { differences, sameStatusOtherMessage };
}

// ---------------------------------------------------------------------------------------------
// Output (Markdown tables: readable in a terminal, and pasted as is into docs/conformance.md)

function table(head: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

const short = (s: string | undefined, n = 110) => (s === undefined ? '' : s.length > n ? `${s.slice(0, n - 1)}…` : s);
const status = (c: Check | undefined) => c?.status ?? '(not run)';

function report(direct: TargetResult, gateway: TargetResult, opts: Options): { text: string; regressions: Difference[]; dnsOk: boolean; dnsStatus: string } {
  const out: string[] = [];
  const sums = [direct, gateway].map((r) => [r, summarize(r)] as const);
  out.push(`## Summary (suite ${opts.suite}, spec ${opts.specVersion})`, '');
  out.push(
    table(
      ['target', 'endpoint', 'scenarios', 'scenarios without failure', 'checks', 'passed', 'failed', 'warnings', 'info', 'time'],
      sums.map(([r, s]) => [
        r.name,
        `\`${r.url.replace(/:\d+\//, ':PORT/')}\``,
        String(s.scenarios) + (s.missing.length > 0 ? ` (${s.missing.length} without results)` : ''),
        String(s.scenariosPassed),
        String(s.checks),
        String(s.counts.SUCCESS),
        String(s.counts.FAILURE),
        String(s.counts.WARNING),
        String(s.counts.INFO),
        `${r.seconds.toFixed(1)} s`,
      ]),
    ),
    '',
  );
  for (const [r, s] of sums) {
    if (s.missing.length > 0) out.push(`${r.name}: no results for ${s.missing.join(', ')}`, '');
    if (r.exit.timedOut) out.push(`${r.name}: the suite run timed out; its results are partial`, '');
  }

  const { differences, sameStatusOtherMessage } = compare(direct, gateway);
  out.push(`## Checks whose status differs (${differences.length})`, '');
  if (differences.length === 0) out.push('None: every check has the same status directly and through the gateway.', '');
  else {
    out.push(
      table(
        ['check (scenario/id)', 'direct', 'gateway', 'gateway says'],
        differences.map((x) => [`${x.regression ? '**REGRESSION** ' : ''}\`${x.key}\``, status(x.direct), status(x.gateway), short(x.gateway?.errorMessage ?? x.direct?.errorMessage)]),
      ),
      '',
    );
  }
  if (sameStatusOtherMessage.length > 0) {
    out.push(`## Same status, different message (${sameStatusOtherMessage.length})`, '');
    out.push(
      table(
        ['check (scenario/id)', 'status', 'direct says', 'gateway says'],
        sameStatusOtherMessage.map((x) => [`\`${x.key}\``, status(x.direct), short(x.direct?.errorMessage, 80), short(x.gateway?.errorMessage, 80)]),
      ),
      '',
    );
  }

  const directChecks = keyed(direct);
  const failingBoth = [...keyed(gateway)].filter(([k, c]) => c.status === 'FAILURE' && directChecks.get(k)?.status === 'FAILURE');
  if (failingBoth.length > 0) {
    out.push(`## Failing on both (${failingBoth.length}): not a gateway difference`, '');
    out.push(table(['check (scenario/id)', 'message'], failingBoth.map(([k, c]) => [`\`${k}\``, short(c.errorMessage)])), '');
  }

  const regressions = differences.filter((x) => x.regression);
  const dns = [...keyed(gateway)].find(([k]) => k.endsWith(`/${DNS_REBINDING_CHECK}`))?.[1];
  const dnsOk = dns?.status === 'SUCCESS';
  const dnsStatus = dns ? `${dns.status}${dns.errorMessage ? `: ${dns.errorMessage}` : ''}` : 'not run (the suite did not include dns-rebinding-protection)';
  out.push('## Verdict', '');
  out.push(`- checks that pass directly but fail through the gateway: ${regressions.length === 0 ? 'none' : regressions.map((x) => x.key).join(', ')}`);
  out.push(`- DNS-rebinding protection through the gateway (\`${DNS_REBINDING_CHECK}\`): ${dnsStatus}`);
  return { text: out.join('\n'), regressions, dnsOk, dnsStatus };
}

function versions(): string {
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(path.join(MODULES, pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  return `node ${process.version}, @modelcontextprotocol/conformance ${version('@modelcontextprotocol/conformance')}, @modelcontextprotocol/server-everything ${version('@modelcontextprotocol/server-everything')}, @modelcontextprotocol/sdk ${version('@modelcontextprotocol/sdk')} (gateway)`;
}

// ---------------------------------------------------------------------------------------------

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  return (cleaning ??= Promise.all(procs.map((p) => p.stop())).then(() => undefined));
}

async function main(): Promise<number> {
  const opts = options();
  for (const file of [CONFORMANCE_BIN, EVERYTHING_BIN]) {
    if (!existsSync(file)) throw new HarnessError(`${path.relative(ROOT, file)} is missing: run npm install`);
  }
  const dir = opts.out ? path.resolve(opts.out) : mkdtempSync(path.join(os.tmpdir(), 'mcp-conformance-'));
  mkdirSync(dir, { recursive: true });
  let keep = opts.out !== undefined;
  try {
    process.stderr.write(`starting server-everything (streamableHttp) and the gateway; output in ${dir}\n`);
    const [directUrl, gatewayUrl] = await Promise.all([startDirect(dir), startGateway(dir)]);
    const direct = await runSuite('direct', directUrl, dir, opts);
    const gateway = await runSuite('gateway', gatewayUrl, dir, opts);
    await cleanup();

    const { text, regressions, dnsOk } = report(direct, gateway, opts);
    process.stdout.write(`# MCP conformance: server-everything direct vs through the gateway\n\n${new Date().toISOString().slice(0, 10)}; ${versions()}\n\n${text}\n`);
    writeFileSync(path.join(dir, 'report.md'), text + '\n');
    for (const r of [direct, gateway]) {
      if (r.scenarios.size === 0) throw new HarnessError(`the suite produced no results against ${r.name} (see ${path.join(dir, `${r.name}-suite.log`)})`);
      if (r.exit.timedOut) throw new HarnessError(`the suite run against ${r.name} timed out after ${opts.timeoutMs / 1000} s`);
    }
    const failed = regressions.length > 0 || !dnsOk;
    if (failed) keep = true;
    process.stdout.write(`\n${failed ? 'FAIL' : 'OK'}${keep ? ` (suite output kept in ${dir})` : ''}\n`);
    return failed ? 1 : 0;
  } catch (err) {
    keep = true;
    throw err;
  } finally {
    await cleanup();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping everything this run started\n`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  for (const p of procs) p.kill(); // last resort; a no-op when everything has stopped
});

try {
  process.exitCode = await main();
} catch (err) {
  await cleanup();
  process.stderr.write(`conformance: ${err instanceof HarnessError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 2;
}
