/**
 * The two protocol eras `npm run conformance` measures, each with its own suite release:
 * 2025-11-25 (sessions, `initialize`) with @modelcontextprotocol/conformance 0.1, and 2026-07-28
 * (stateless requests, `server/discover`, input-required results) with the 0.2 suite, installed
 * beside it as `conformance-next` because the two releases' command names clash.
 */
import path from 'node:path';

export interface Era {
  /** What the report calls it. */
  label: string;
  /** The suite's entry point. */
  bin: string;
  /** How the runs pick scenarios. */
  selection: string[];
  /** The twin's expected failures for this era. */
  expectedFailures: string;
  /** Suffix of this era's output folders and logs ('' for 2025-11-25, which keeps the old names). */
  suffix: string;
}

export function legacyEra(root: string, suite: string, specVersion: string): Era {
  return {
    label: `suite ${suite}, spec ${specVersion}`,
    bin: path.join(root, 'node_modules/@modelcontextprotocol/conformance/dist/index.js'),
    selection: ['--suite', suite, '--spec-version', specVersion],
    expectedFailures: path.join(root, 'scripts/conformance-expected-failures.yaml'),
    suffix: '',
  };
}

/** 2026-07-28 as its frozen requirement set has it (the scored scenarios, plus the unscored ones, reported apart). */
export function modernEra(root: string): Era {
  return {
    label: 'requirements 2026-07-28',
    bin: path.join(root, 'node_modules/conformance-next/dist/index.js'),
    selection: ['--requirements', '2026-07-28'],
    expectedFailures: path.join(root, 'scripts/conformance-2026-expected-failures.yaml'),
    suffix: '-2026',
  };
}

/**
 * Scenarios a requirement-set run executes but does not score, with the suite's reason, read from
 * its output ("Not scored for 2026-07-28: …" then one "  ✗ name (reason)" line each).
 */
export function notScored(output: string): Map<string, string> {
  const found = new Map<string, string>();
  const start = output.search(/^Not scored for /m);
  if (start < 0) return found;
  for (const line of output.slice(start).split('\n').slice(1)) {
    const match = /^\s+[✓✗]\s+(\S+)\s+\(([^)]*)\)\s*$/.exec(line);
    if (match) found.set(match[1]!, match[2]!);
    else if (line.trim() !== '' && !/^\s/.test(line)) break;
  }
  return found;
}
