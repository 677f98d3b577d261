/**
 * The servers connected hosts offer, with their tools: read from storage, cached until a host
 * connects, leaves or restates a server. It also checks tool arguments (validators are compiled
 * once per tool and kept with the cache).
 */
import { GatewayError } from '../../shared/errors.ts';
import type { Tool } from '../../shared/protocol.ts';
import { ArgumentsValidator } from '../../shared/tool-arguments.ts';
import type { HubSql } from './hub.ts';

export interface CatalogEntry {
  hosts: string[];
  tools: Map<string, Tool>;
  validators: Map<string, ArgumentsValidator>;
}

export class Catalog {
  readonly #sql: HubSql;
  #entries: Map<string, CatalogEntry> | null = null;

  constructor(sql: HubSql) {
    this.#sql = sql;
  }

  /** Forget the cache: the next read rebuilds it from storage. */
  invalidate(): void {
    this.#entries = null;
  }

  #all(): Map<string, CatalogEntry> {
    if (this.#entries) return this.#entries;
    const entries = new Map<string, CatalogEntry>();
    for (const row of this.#sql.exec('SELECT name, host_id, tools FROM servers ORDER BY host_id')) {
      const name = String(row.name);
      let entry = entries.get(name);
      if (!entry) {
        const tools = JSON.parse(String(row.tools)) as Tool[];
        entry = { hosts: [], tools: new Map(tools.map((t) => [t.name, t])), validators: new Map() };
        entries.set(name, entry);
      }
      entry.hosts.push(String(row.host_id));
    }
    return (this.#entries = entries);
  }

  /** The server's entry: 404 for a name never announced, 503 for one whose hosts are all gone. */
  entry(server: string): CatalogEntry {
    const entry = this.#all().get(server);
    if (entry) return entry;
    const known = this.#sql.exec('SELECT 1 FROM known_servers WHERE name = ?', server).length > 0;
    throw known
      ? new GatewayError('HOST_OFFLINE', `no connected host offers server ${server} right now`)
      : new GatewayError('SERVER_NOT_FOUND', `no server named ${server}`);
  }

  /** Every server with its tools (for the OpenAPI document). */
  list(): { name: string; tools: Tool[] }[] {
    return [...this.#all()].map(([name, entry]) => ({ name, tools: [...entry.tools.values()] })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Checks a tool call before it is made: the tool exists (404) and the arguments fit its input schema (422). */
  checkCall(server: string, tool: string, args: Record<string, unknown>): void {
    const entry = this.entry(server);
    const found = entry.tools.get(tool);
    if (!found) throw new GatewayError('TOOL_NOT_FOUND', `server ${server} has no tool named ${tool}`);
    if (!found.inputSchema) return;
    let validator = entry.validators.get(tool);
    if (!validator) entry.validators.set(tool, (validator = new ArgumentsValidator(found.inputSchema)));
    const fields = validator.check(args);
    if (fields.length) {
      const summary = fields.map((f) => `${f.path || '(arguments)'}: ${f.message}`).join('; ');
      throw new GatewayError('INVALID_ARGUMENTS', `arguments do not match the input schema of ${tool}: ${summary}`.slice(0, 2000), undefined, fields);
    }
  }
}
