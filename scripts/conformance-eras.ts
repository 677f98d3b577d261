/**
 * The two protocol eras `npm run conformance` measures, each with its own suite release:
 * 2025-11-25 (sessions, `initialize`) with @modelcontextprotocol/conformance 0.1, and 2026-07-28
 * (stateless requests, `server/discover`, input-required results) with the 0.2 suite, installed
 * beside it as `conformance-next` because the two releases' command names clash.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface Era {
  /** What the report calls it. */
  label: string;
  /** The suite's entry point. */
  bin: string;
  /** How the runs pick scenarios. */
  selection: string[];
  /** The twin's expected failures for this era. */
  expectedFailures: string;
  /** The frozen requirement set the runs follow, if any (its `not_scored` entries are reported apart). */
  requirements?: string;
}

export function legacyEra(root: string, suite: string, specVersion: string): Era {
  return {
    label: `suite ${suite}, spec ${specVersion}`,
    bin: path.join(root, 'node_modules/@modelcontextprotocol/conformance/dist/index.js'),
    selection: ['--suite', suite, '--spec-version', specVersion],
    expectedFailures: path.join(root, 'scripts/conformance-expected-failures.yaml'),
  };
}

/** 2026-07-28 as its frozen requirement set has it (the scored scenarios, plus the unscored ones, reported apart). */
export function modernEra(root: string): Era {
  return {
    label: 'requirements 2026-07-28',
    bin: path.join(root, 'node_modules/conformance-next/dist/index.js'),
    selection: ['--requirements', '2026-07-28'],
    expectedFailures: path.join(root, 'scripts/conformance-2026-expected-failures.yaml'),
    requirements: path.join(root, 'node_modules/conformance-next/requirements/2026-07-28.yaml'),
  };
}

/**
 * Server scenarios a requirement set runs but does not score (its `not_scored` list: extensions,
 * pending scenarios), with the reason it gives; empty for an era selected without one.
 */
export function notScored(era: Era): Map<string, string> {
  const found = new Map<string, string>();
  if (!era.requirements) return found;
  const doc = parse(readFileSync(era.requirements, 'utf8')) as { not_scored?: { scenario: string; leg: string; reason: string }[] };
  for (const entry of doc.not_scored ?? []) if (entry.leg === 'server') found.set(entry.scenario, entry.reason);
  return found;
}
