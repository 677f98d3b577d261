/**
 * The conformance run's comparison and report: every check of a target keyed, direct and gateway
 * compared check by check, and the Markdown tables (readable in a terminal, and pasted as is into
 * docs/conformance.md) with their verdict lines.
 */
import path from 'node:path';
import type { Era } from './conformance-eras.ts';
import { DNS_REBINDING_CHECK, MODERN_BIN, ROOT, TWIN_BIN } from './conformance-paths.ts';

export type Status = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;

export interface Check {
  id: string;
  status: Status;
  errorMessage?: string;
}

export interface TargetResult {
  name: string;
  url: string;
  /** Scenario name → its checks, as the suite wrote them. */
  scenarios: Map<string, Check[]>;
  /** Scenarios the suite said it would run. */
  planned: string[];
  exit: { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean };
  seconds: number;
  /** Scenarios run but not scored (a requirement set's `not_scored`), with the suite's reason. */
  notScored: Map<string, string>;
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

export interface Summary {
  scenarios: number;
  scenariosPassed: number;
  missing: string[];
  checks: number;
  counts: Record<string, number>;
}

export function summarize(result: TargetResult): Summary {
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

export interface Difference {
  key: string;
  direct: Check | undefined;
  gateway: Check | undefined;
  /** Passes directly, fails (or is missing) through the gateway. */
  regression: boolean;
}

export function compare(direct: TargetResult, gateway: TargetResult): { differences: Difference[]; sameStatusOtherMessage: Difference[] } {
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

export function table(head: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

const short = (s: string | undefined, n = 110) => (s === undefined ? '' : s.length > n ? `${s.slice(0, n - 1)}…` : s);
const status = (c: Check | undefined) => c?.status ?? '(not run)';

/** A target's row in a summary table: its scenarios, those counted as passed, and its checks by status. */
function summaryRow(r: TargetResult, s: Summary, scenariosPassed: number): string[] {
  return [
    r.name,
    `\`${r.url.replace(/:\d+\//, ':PORT/')}\``,
    String(s.scenarios) + (s.missing.length > 0 ? ` (${s.missing.length} without results)` : ''),
    String(scenariosPassed),
    String(s.checks),
    String(s.counts.SUCCESS),
    String(s.counts.FAILURE),
    String(s.counts.WARNING),
    String(s.counts.INFO),
    `${r.seconds.toFixed(1)} s`,
  ];
}

export function report(direct: TargetResult, gateway: TargetResult, opts: { suite: string; specVersion: string }): { text: string; verdict: string[]; regressions: Difference[]; dnsOk: boolean } {
  const out: string[] = [];
  const sums = [direct, gateway].map((r) => [r, summarize(r)] as const);
  out.push(`## Summary (suite ${opts.suite}, spec ${opts.specVersion})`, '');
  out.push(
    table(
      ['target', 'endpoint', 'scenarios', 'scenarios without failure', 'checks', 'passed', 'failed', 'warnings', 'info', 'time'],
      sums.map(([r, s]) => summaryRow(r, s, s.scenariosPassed)),
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
  const verdict = [
    `- checks that pass directly but fail through the gateway: ${regressions.length === 0 ? 'none' : regressions.map((x) => x.key).join(', ')}`,
    `- DNS-rebinding protection through the gateway (\`${DNS_REBINDING_CHECK}\`): ${dnsStatus}`,
  ];
  return { text: out.join('\n'), verdict, regressions, dnsOk };
}

/** A scenario fails, for the suite's expected-failures baseline, on any FAILURE or WARNING. */
const failing = (c: Check) => c.status === 'FAILURE' || c.status === 'WARNING';

export interface TwinVerdict {
  text: string;
  verdict: string[];
  ok: boolean;
}

export function twinReport(twin: TargetResult, expected: Map<string, string>, era: Era): TwinVerdict {
  const out: string[] = [];
  const s = summarize(twin);
  const failed = [...twin.scenarios].filter(([name, checks]) => !twin.notScored.has(name) && checks.some(failing)).map(([name]) => name);
  const unexpected = [...failed, ...s.missing].filter((name) => !expected.has(name)).sort();
  const stale = [...expected.keys()].filter((name) => twin.scenarios.has(name) && !failed.includes(name));
  const expectedFailing = failed.filter((name) => expected.has(name));

  out.push(`## The twin through the gateway (${era.label})`, '');
  out.push(
    `\`${path.relative(ROOT, TWIN_BIN)}\` over stdio behind a gateway of its own, with \`--expected-failures ${path.relative(ROOT, era.expectedFailures)}\`.`,
    '',
  );
  out.push(
    table(
      ['target', 'endpoint', 'scenarios', 'scenarios passed', 'checks', 'passed', 'failed', 'warnings', 'info', 'time'],
      [summaryRow(twin, s, s.scenarios - failed.length)],
    ),
    '',
  );
  if (s.missing.length > 0) out.push(`twin: no results for ${s.missing.join(', ')}`, '');
  if (twin.exit.timedOut) out.push('twin: the suite run timed out; its results are partial', '');

  const notPassed = [...keyed(twin)].filter(([k, c]) => failing(c) && !twin.notScored.has(k.slice(0, k.indexOf('/'))));
  out.push(`### Twin checks that did not pass (${notPassed.length})`, '');
  if (notPassed.length === 0) out.push('None.', '');
  else {
    out.push(
      table(
        ['check (scenario/id)', 'status', 'expected', 'message'],
        notPassed.map(([k, c]) => [`\`${k}\``, c.status, expected.has(k.slice(0, k.indexOf('/'))) ? 'yes' : '**no**', short(c.errorMessage)]),
      ),
      '',
    );
  }
  out.push(`### Expected failures (${expected.size})`, '');
  if (expected.size === 0) out.push(`None: \`${path.relative(ROOT, era.expectedFailures)}\` lists no scenario.`, '');
  else {
    const state = (name: string) => (!twin.scenarios.has(name) ? 'not run' : failed.includes(name) ? 'fails, as expected' : '**passes: stale entry**');
    out.push(table(['scenario', 'this run', 'why it cannot pass through a gateway'], [...expected].map(([name, why]) => [`\`${name}\``, state(name), why])), '');
  }

  if (twin.notScored.size > 0) {
    const scored = (name: string) => ((twin.scenarios.get(name) ?? []).some(failing) ? 'fails' : 'passes');
    out.push(`### Run but not scored by the requirement set (${twin.notScored.size})`, '');
    out.push(table(['scenario', 'this run', "the suite's reason"], [...twin.notScored].map(([name, why]) => [`\`${name}\``, scored(name), why])), '');
  }

  const code = twin.exit.code;
  const suiteOk = code === 0 && !twin.exit.timedOut;
  const verdict = [
    `- ${era.label}: twin scenarios that fail through the gateway, other than the expected failures: ${unexpected.length === 0 ? 'none' : unexpected.join(', ')}`,
    `- expected failures that now pass (stale): ${stale.length === 0 ? 'none' : stale.join(', ')}`,
    `- expected failures that still fail: ${expectedFailing.length === 0 ? 'none' : expectedFailing.join(', ')}`,
    `- the suite's own verdict on the twin run (\`--expected-failures\`): exit status ${code ?? twin.exit.signal ?? '?'}${suiteOk ? '' : ' (not 0)'}`,
  ];
  return { text: out.join('\n'), verdict, ok: unexpected.length === 0 && stale.length === 0 && suiteOk };
}

/** server-everything under the 2026-07-28 suite, directly and through the gateway: counts only (scored scenarios). */
export function modernSummary(direct: TargetResult, gateway: TargetResult, era: Era, what = 'server-everything'): string {
  const row = (r: TargetResult) => {
    const scored = [...r.scenarios].filter(([name]) => !r.notScored.has(name));
    const checks = scored.flatMap(([, list]) => list);
    const count = (status: string) => String(checks.filter((c) => c.status === status).length);
    const passed = scored.filter(([, list]) => !list.some(failing)).length;
    return [r.name, `\`${r.url.replace(/:\d+\//, ':PORT/')}\``, String(scored.length), String(passed), String(checks.length), count('SUCCESS'), count('FAILURE'), count('WARNING'), `${r.seconds.toFixed(1)} s`];
  };
  return [
    `## ${what}, direct and through the gateway (${era.label}, scored scenarios)`,
    '',
    table(['target', 'endpoint', 'scenarios', 'scenarios passed', 'checks', 'passed', 'failed', 'warnings', 'time'], [row(direct), row(gateway)]),
    '',
  ].join('\n');
}

/** The 2026-era server under the 2026-07-28 suite, on the SDK's own HTTP entry and through the gateway: check by check. */
export function modernServerReport(direct: TargetResult, gateway: TargetResult, relayed: boolean, era: Era): { text: string; verdict: string[]; regressions: Difference[] } {
  const out = [`## A 2026-era server (v2 server SDK), direct and through the gateway (${era.label})`, ''];
  out.push(
    `\`${path.relative(ROOT, MODERN_BIN)}\`: directly with \`--http\` (the SDK's \`createMcpHandler\`), and over stdio behind a gateway (the host relays modern requests unchanged: ${relayed ? 'confirmed, the server\'s own input-request key reached the client' : '**NOT confirmed: the gateway did not relay the server\'s own input request**'}).`,
    '',
  );
  out.push(modernSummary(direct, gateway, era).split('\n').slice(2).join('\n'));
  const { differences } = compare(direct, gateway);
  out.push(`### Checks whose status differs (${differences.length})`, '');
  if (differences.length === 0) out.push('None: every check has the same status directly and through the gateway.', '');
  else {
    out.push(
      table(
        ['check (scenario/id)', 'direct', 'gateway', 'gateway says', 'direct says'],
        differences.map((x) => [`${x.regression ? '**REGRESSION** ' : ''}\`${x.key}\``, status(x.direct), status(x.gateway), short(x.gateway?.errorMessage, 90), short(x.direct?.errorMessage, 90)]),
      ),
      '',
    );
  }
  const regressions = differences.filter((x) => x.regression);
  const verdict = [
    `- 2026-era server: relayed unchanged through the gateway: ${relayed ? 'yes' : 'NO'}; checks that pass directly but fail through the gateway: ${regressions.length === 0 ? 'none' : regressions.map((x) => x.key).join(', ')}`,
  ];
  return { text: out.join('\n'), verdict, regressions };
}
