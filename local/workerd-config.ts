/**
 * The workerd config (Cap'n Proto text) for the local edge: one Worker, its Durable Object
 * classes stored in a directory (workerd's in-memory storage has no SQL API), and one HTTP socket. Nothing in front of the Worker, unlike
 * Miniflare's entry worker (see bench/README.md for what that cost).
 */
import type { EdgeSettings } from './wrangler-toml.ts';

export const SOCKET_NAME = 'http';

export interface WorkerdConfigOptions {
  settings: EdgeSettings;
  /** File name of the bundled ES module, next to the config file. */
  moduleFile: string;
  /** Modules the Worker imports as text: import name -> file next to the config file. */
  textModules?: { name: string; file: string }[];
  /** Text bindings read by workerd from its environment: binding name -> variable name. */
  envBindings: Record<string, string>;
  /** Extra CA certificates (PEM) that the Worker's fetch() trusts besides the browsers' CAs. */
  trustedCertificates: string[];
  /** Absolute path of the directory for Durable Object storage (SQLite files). */
  storageDir: string;
  /** Where the socket listens: `host:port` (port 0 for any free port). */
  address: string;
}

export function workerdConfig(opts: WorkerdConfigOptions): string {
  const { settings } = opts;
  const bindings: string[] = [];
  for (const [name, value] of Object.entries(settings.vars)) {
    if (name in opts.envBindings) continue;
    bindings.push(typeof value === 'string' ? `(name = ${str(name)}, text = ${str(value)})` : `(name = ${str(name)}, json = ${str(JSON.stringify(value))})`);
  }
  for (const [name, variable] of Object.entries(opts.envBindings)) bindings.push(`(name = ${str(name)}, fromEnvironment = ${str(variable)})`);
  for (const d of settings.durableObjects) {
    if (d.binding) bindings.push(`(name = ${str(d.binding)}, durableObjectNamespace = ${str(d.className)})`);
  }
  const namespaces = settings.durableObjects.map(
    (d) => `(className = ${str(d.className)}, uniqueKey = ${str(`${settings.name}-${d.className}`)}, enableSql = ${d.sql})`,
  );
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "storage", disk = (path = ${str(opts.storageDir)}, writable = true)),
    # The Worker's fetch(): the internet and this machine's own network, as under Miniflare
    # (a JWKS URL may well be on localhost or the LAN).
    (name = "internet", network = (
      allow = ["public", "private", "240.0.0.0/4"],
      tlsOptions = (trustBrowserCas = true, trustedCertificates = [${opts.trustedCertificates.map(str).join(', ')}]),
    )),
  ],
  # CF-Connecting-IP is Cloudflare's to set: a client's own is removed, so no client can pick the
  # address its refused credentials and sign-ins are counted under.
  sockets = [(name = ${str(SOCKET_NAME)}, address = ${str(opts.address)}, http = (injectRequestHeaders = [(name = "CF-Connecting-IP")]), service = "edge")],
);

const edge :Workerd.Worker = (
  compatibilityDate = ${str(settings.compatibilityDate)},
  compatibilityFlags = [${settings.compatibilityFlags.map(str).join(', ')}],
  modules = [${[`(name = ${str(opts.moduleFile)}, esModule = embed ${str(opts.moduleFile)})`, ...(opts.textModules ?? []).map((m) => `(name = ${str(m.name)}, text = embed ${str(m.file)})`)].join(', ')}],
  bindings = [
    ${bindings.join(',\n    ')}
  ],
  durableObjectNamespaces = [${namespaces.join(', ')}],
  durableObjectStorage = ${settings.durableObjects.length ? '(localDisk = "storage")' : '(none = void)'},
);
`;
}

/** A Cap'n Proto text string literal. */
function str(value: string): string {
  return `"${value.replace(/[\\"\x00-\x1f\x7f]/g, (c) => (c === '\\' || c === '"' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}"`;
}
