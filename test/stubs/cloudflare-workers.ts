/**
 * `cloudflare:workers` for tests that run Worker code in Node (edge/app.test.ts, edge/oauth/):
 * the base classes only, which the code under test extends or imports but these tests never run.
 */
export class WorkerEntrypoint {}
export class DurableObject {}
