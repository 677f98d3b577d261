/** Where `npm run conformance` finds the suite, the servers it runs, and the files it reads. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MODULES = path.join(ROOT, 'node_modules');
export const CONFORMANCE_BIN = path.join(MODULES, '@modelcontextprotocol/conformance/dist/index.js');
export const EVERYTHING_BIN = path.join(MODULES, '@modelcontextprotocol/server-everything/dist/index.js');
/** The stdio twin of the suite's reference server, and the server name it has behind the gateway. */
export const TWIN_BIN = path.join(ROOT, 'test/fixtures/conformance-server.mjs');
export const TWIN_SERVER = 'conformance';
/** A 2026-era server on the v2 server SDK: stdio, or `--http PORT` on the SDK's own HTTP entry. */
export const MODERN_BIN = path.join(ROOT, 'test/fixtures/modern-server.mjs');
export const MODERN_SERVER = 'modern';
export const EXPECTED_FAILURES = path.join(ROOT, 'scripts/conformance-expected-failures.yaml');
/** The check the suite's dns-rebinding-protection scenario makes with a foreign Host and Origin. */
export const DNS_REBINDING_CHECK = 'localhost-host-rebinding-rejected';
