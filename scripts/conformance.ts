/**
 * MCP conformance through the gateway, with the official server suite (@modelcontextprotocol/conformance):
 *
 * 1. Side by side: the suite against server-everything on its own Streamable HTTP transport
 *    ("direct"), then against the same server behind the gateway (`node cli/main.ts start`,
 *    stdio server, /everything/mcp).
 * 2. The twin: the suite against test/fixtures/conformance-server.mjs (a stdio server with the
 *    suite's fixtures) behind a gateway of its own, /conformance/mcp, with the expected failures
 *    of scripts/conformance-expected-failures.yaml (`--expected-failures`).
 * 3. A 2026-era server: the 2026-07-28 suite against test/fixtures/modern-server.mjs (v2 server
 *    SDK) on the SDK's own Streamable HTTP entry ("direct") and over stdio behind a gateway of its
 *    own, /modern/mcp, where the host relays modern requests unchanged; compared check by check.
 *
 *   npm run conformance
 *   npm run conformance -- --out results/        # keep the suite's output (checks.json per scenario)
 *   npm run conformance -- --timeout 600         # seconds per suite run (default 300)
 *   npm run conformance -- --budget 900          # seconds for the whole run (default 720)
 *   npm run conformance -- --suite all           # active + pending scenarios
 *
 * Prints a summary per target, every check whose status differs between direct and gateway, and
 * every twin check that did not pass. Exit status: 0 when the gateway fails nothing that passes
 * directly, passes the DNS-rebinding check, and fails no twin scenario outside the expected
 * failures (and every expected failure still fails), and relays to the 2026-era fixture without
 * failing a check it passes on its own HTTP entry; 1 when any of that is not so; 2 when the
 * runs could not be made (a target did not start, a suite run timed out).
 * See docs/conformance.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isScalar, isSeq, parseDocument } from 'yaml';
import { legacyEra, modernEra, notScored, type Era } from './conformance-eras.ts';
import { deadline, freePort, startProc, type Proc } from './procs.ts';

import { CONFORMANCE_BIN, EVERYTHING_BIN, EXPECTED_FAILURES, MODERN_BIN, MODERN_SERVER, MODULES, ROOT, TWIN_BIN, TWIN_SERVER } from './conformance-paths.ts';
import { modernServerReport, modernSummary, report, twinReport, type Check, type TargetResult } from './conformance-report.ts';
const START_TIMEOUT_MS = 60_000;

/** Failures of the harness itself (not of a target): exit status 2. */
class HarnessError extends Error {}

interface Options {
  out: string | undefined;
  timeoutMs: number;
  /** For the whole run: each suite run gets at most what is left of it. */
  budgetMs: number;
  suite: string;
  specVersion: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', short: 'o' },
      timeout: { type: 'string', default: '300' },
      budget: { type: 'string', default: '720' },
      suite: { type: 'string', default: 'active' },
      'spec-version': { type: 'string', default: '2025-11-25' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run conformance -- [--out DIR] [--timeout SECONDS] [--budget SECONDS] [--suite active|all|pending] [--spec-version 2025-11-25]\n',
    );
    process.exit(0);
  }
  const seconds = (name: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new HarnessError(`--${name} must be a positive number of seconds, not ${value}`);
    return n * 1000;
  };
  return {
    out: values.out,
    timeoutMs: seconds('timeout', values.timeout),
    budgetMs: seconds('budget', values.budget),
    suite: values.suite!,
    specVersion: values['spec-version']!,
  };
}

// ---------------------------------------------------------------------------------------------
// Targets

const procs: Proc[] = [];

async function startDirect(dir: string): Promise<{ url: string; proc: Proc }> {
  const port = await freePort();
  const proc = startProc('server-everything (streamableHttp)', process.execPath, [EVERYTHING_BIN, 'streamableHttp'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    logFile: path.join(dir, 'direct-server.log'),
  });
  procs.push(proc);
  await proc.waitFor(/listening on port (\d+)/, START_TIMEOUT_MS);
  return { url: `http://127.0.0.1:${port}/mcp`, proc };
}

async function startModernDirect(dir: string): Promise<{ url: string; proc: Proc }> {
  const port = await freePort();
  const proc = startProc('modern-server (--http)', process.execPath, [MODERN_BIN, '--http', String(port)], {
    cwd: ROOT,
    logFile: path.join(dir, 'modern-direct-server.log'),
  });
  procs.push(proc);
  await proc.waitFor(/listening on port (\d+)/, START_TIMEOUT_MS);
  return { url: `http://127.0.0.1:${port}/mcp`, proc };
}

/**
 * Whether the gateway relays 2026-07-28 requests to the modern fixture unchanged (the host's probe
 * classified it as 2026-era): its `greet` tool asks for input under its own key, `name`; the
 * bridge for a 2025-era server would key the request `request-<id>`. The verdict can come a little
 * after the gateway is ready, so this asks until a deadline.
 */
async function relaysModern(url: string): Promise<boolean> {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'conformance-script', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
  };
  const ends = Date.now() + 20_000;
  while (Date.now() < ends) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'greet' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'greet', arguments: {}, _meta: meta } }),
      });
      const text = await res.text();
      const body = JSON.parse(text.includes('data:') ? text.slice(text.lastIndexOf('data:') + 5) : text) as { result?: { inputRequests?: Record<string, unknown> } };
      if (body.result?.inputRequests && 'name' in body.result.inputRequests) return true;
    } catch {
      // not ready yet
    }
    await deadline(500);
  }
  return false;
}

/**
 * A gateway (`node cli/main.ts start`) serving one stdio server, `server`, run by this Node.
 * Its config and log are `<prefix>.yaml` and `<prefix>.log` in `dir`.
 */
async function startGateway(dir: string, prefix: string, server: string, args: string[]): Promise<{ url: string; proc: Proc }> {
  const config = path.join(dir, `${prefix}.yaml`);
  writeFileSync(
    config,
    [
      'hostname: 127.0.0.1',
      'port: 0',
      'debug: { level: warn }',
      // Every scenario of a 2025-11-25 run opens an MCP session (a process each) and leaves it to
      // the idle timeout; the 2026-07-28 runs that follow need processes of their own.
      'host: { maxProcesses: 200 }',
      'servers:',
      `  ${server}:`,
      // This Node, not whichever `node` is first on PATH.
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: ${JSON.stringify(args)}`,
      // Ready processes, as a user would keep for fast first requests: some 2026-07-28 checks read a
      // response with a deadline of 600 ms, which a process spawn can exceed on a busy machine.
      '    pool: 2',
      '',
    ].join('\n'),
  );
  const proc = startProc(prefix, process.execPath, [path.join(ROOT, 'cli/main.ts'), 'start', '--config', config], {
    cwd: ROOT,
    logFile: path.join(dir, `${prefix}.log`),
  });
  procs.push(proc);
  const match = await proc.waitFor(/MCP gateway ready at (http:\/\/\S+)/, START_TIMEOUT_MS);
  return { url: `${match[1]!.replace(/\/$/, '')}/${server}/mcp`, proc };
}

// ---------------------------------------------------------------------------------------------
// The suite

/** Time left for suite runs: the budget less a margin for stopping everything afterwards. */
let budgetEnds = Infinity;
const STOP_MARGIN_MS = 20_000;

async function runSuite(name: string, url: string, dir: string, opts: Options, extraArgs: string[] = [], era: Era = legacyEra(ROOT, opts.suite, opts.specVersion)): Promise<TargetResult> {
  const outDir = path.join(dir, name);
  mkdirSync(outDir, { recursive: true });
  const args = [era.bin, 'server', '--url', url, ...era.selection, '-o', outDir, ...extraArgs];
  process.stderr.write(`running the server suite (${era.selection.join(' ')}) against ${name}: ${url}\n`);
  const started = Date.now();
  const allowedMs = Math.max(1000, Math.min(opts.timeoutMs, budgetEnds - STOP_MARGIN_MS - started));
  const proc = startProc(`conformance (${name})`, process.execPath, args, { cwd: ROOT, logFile: path.join(dir, `${name}-suite.log`) });
  procs.push(proc);
  const timedOut = await Promise.race([proc.exited.then(() => false), deadline(allowedMs).then(() => true)]);
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
    notScored: notScored(era),
  };
  if (timedOut) process.stderr.write(`  timed out after ${(allowedMs / 1000).toFixed(0)} s: results are partial\n`);
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
// The twin: every scenario passes through the gateway, but for the expected failures

/** scripts/conformance-expected-failures.yaml: scenario → the reason in its entry's comment. */
function readExpectedFailures(file: string): Map<string, string> {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new HarnessError(`${path.relative(ROOT, file)}: ${doc.errors[0]!.message}`);
  const list = doc.get('server', true);
  const expected = new Map<string, string>();
  if (list === undefined || list === null) return expected;
  if (!isSeq(list)) throw new HarnessError(`${path.relative(ROOT, file)}: 'server' must be a list of scenario names`);
  for (const [i, item] of list.items.entries()) {
    if (!isScalar(item) || typeof item.value !== 'string') throw new HarnessError(`${path.relative(ROOT, file)}: 'server' must be a list of scenario names`);
    // The first entry's comment belongs, for the YAML parser, to the list itself.
    expected.set(item.value, (item.comment ?? item.commentBefore ?? (i === 0 ? list.commentBefore : undefined) ?? '').trim());
  }
  return expected;
}

function versions(): string {
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(path.join(MODULES, pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  return `node ${process.version}, @modelcontextprotocol/conformance ${version('@modelcontextprotocol/conformance')} and ${version('conformance-next')} (2026-07-28), @modelcontextprotocol/server-everything ${version('@modelcontextprotocol/server-everything')}, @modelcontextprotocol/sdk ${version('@modelcontextprotocol/sdk')} (gateway)`;
}

// ---------------------------------------------------------------------------------------------

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  return (cleaning ??= Promise.all(procs.map((p) => p.stop())).then(() => undefined));
}

async function main(): Promise<number> {
  const opts = options();
  budgetEnds = Date.now() + opts.budgetMs;
  const modern = modernEra(ROOT);
  for (const file of [CONFORMANCE_BIN, EVERYTHING_BIN, TWIN_BIN, MODERN_BIN, EXPECTED_FAILURES, modern.bin, modern.expectedFailures]) {
    if (!existsSync(file)) throw new HarnessError(`${path.relative(ROOT, file)} is missing${file.includes('node_modules') ? ': run npm install' : ''}`);
  }
  const expected = readExpectedFailures(EXPECTED_FAILURES);
  const expectedModern = readExpectedFailures(modern.expectedFailures);
  const dir = opts.out ? path.resolve(opts.out) : mkdtempSync(path.join(os.tmpdir(), 'mcp-conformance-'));
  mkdirSync(dir, { recursive: true });
  let keep = opts.out !== undefined;
  try {
    process.stderr.write(`starting server-everything (streamableHttp), a gateway with server-everything and a gateway with the twin; output in ${dir}\n`);
    const [directTarget, gatewayTarget, twinTarget] = await Promise.all([
      startDirect(dir),
      startGateway(dir, 'gateway', 'everything', [EVERYTHING_BIN, 'stdio']),
      startGateway(dir, 'twin-gateway', TWIN_SERVER, [TWIN_BIN]),
    ]);
    const direct = await runSuite('direct', directTarget.url, dir, opts);
    const gateway = await runSuite('gateway', gatewayTarget.url, dir, opts);
    // 2026-07-28 against the same two: server-everything is a 2025-era server, so directly it
    // speaks only initialize; through the gateway the bridge serves it statelessly.
    const directModern = await runSuite('direct-2026', directTarget.url, dir, opts, [], modern);
    const gatewayModern = await runSuite('gateway-2026', gatewayTarget.url, dir, opts, [], modern);
    // Every session of those runs still has a server-everything process: stop them before the next run.
    await Promise.all([directTarget.proc.stop(), gatewayTarget.proc.stop()]);
    const twin = await runSuite('twin', twinTarget.url, dir, opts, ['--expected-failures', EXPECTED_FAILURES]);
    const twinModern = await runSuite('twin-2026', twinTarget.url, dir, opts, ['--expected-failures', modern.expectedFailures], modern);
    await twinTarget.proc.stop();
    // A 2026-era server, on the v2 SDK's own HTTP entry and behind a gateway that relays to it.
    process.stderr.write('starting the 2026-era fixture (--http) and a gateway with it over stdio\n');
    const [modernDirectTarget, modernGatewayTarget] = await Promise.all([startModernDirect(dir), startGateway(dir, 'modern-gateway', MODERN_SERVER, [MODERN_BIN])]);
    const relayed = await relaysModern(modernGatewayTarget.url);
    const modernDirect = await runSuite('modern-direct-2026', modernDirectTarget.url, dir, opts, [], modern);
    const modernGateway = await runSuite('modern-gateway-2026', modernGatewayTarget.url, dir, opts, [], modern);
    await cleanup();

    const sideBySide = report(direct, gateway, opts);
    const twinResult = twinReport(twin, expected, legacyEra(ROOT, opts.suite, opts.specVersion));
    const modernSideBySide = modernSummary(directModern, gatewayModern, modern);
    const twinModernResult = twinReport(twinModern, expectedModern, modern);
    const modernServer = modernServerReport(modernDirect, modernGateway, relayed, modern);
    const text = [
      '# 2025-11-25',
      '',
      sideBySide.text,
      twinResult.text,
      '# 2026-07-28',
      '',
      modernSideBySide,
      twinModernResult.text,
      modernServer.text,
      '## Verdict',
      '',
      ...sideBySide.verdict,
      ...twinResult.verdict,
      ...twinModernResult.verdict,
      ...modernServer.verdict,
    ].join('\n');
    process.stdout.write(`# MCP conformance through the gateway\n\n${new Date().toISOString().slice(0, 10)}; ${versions()}\n\n${text}\n`);
    writeFileSync(path.join(dir, 'report.md'), text + '\n');
    for (const r of [direct, gateway, twin, directModern, gatewayModern, twinModern, modernDirect, modernGateway]) {
      if (r.scenarios.size === 0) throw new HarnessError(`the suite produced no results against ${r.name} (see ${path.join(dir, `${r.name}-suite.log`)})`);
      if (r.exit.timedOut) throw new HarnessError(`the suite run against ${r.name} timed out (see ${path.join(dir, `${r.name}-suite.log`)})`);
    }
    const failed = sideBySide.regressions.length > 0 || !sideBySide.dnsOk || !twinResult.ok || !twinModernResult.ok || !relayed || modernServer.regressions.length > 0;
    if (failed) keep = true;
    process.stdout.write(`\nconformance verdict: ${failed ? 'the gateway loses checks the servers pass' : 'the gateway keeps every check the servers pass'}${keep ? ` (suite output kept in ${dir})` : ''}\n`);
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
