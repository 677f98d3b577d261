import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

/** Imports the Worker takes as text (wrangler.toml's `Text` rule), loaded the same way in tests. */
const TEXT_IMPORTS = /swagger-ui-dist\/(swagger-ui-bundle\.js|swagger-ui\.css)$/;

const textImports: Plugin = {
  name: 'worker-text-imports',
  enforce: 'pre',
  load(id) {
    if (TEXT_IMPORTS.test(id)) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
  },
};

export default defineConfig({
  plugins: [textImports],
  test: {
    include: ['shared/**/*.test.ts', 'edge/**/*.test.ts', 'host/**/*.test.ts', 'cli/**/*.test.ts', 'local/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // End-to-end files each start an edge and host agents; two cores run them one at a time.
    maxWorkers: 2,
    // Transformed by Vitest rather than loaded by Node, so that its `cloudflare:workers` import
    // resolves to the stand-in below when Worker code runs in Node (edge/app.test.ts, edge/oauth/).
    server: { deps: { inline: ['@cloudflare/workers-oauth-provider'] } },
    alias: { 'cloudflare:workers': fileURLToPath(new URL('./test/stubs/cloudflare-workers.ts', import.meta.url)) },
  },
});
