/**
 * A TCP proxy to put between a host agent and the edge, to break the link the ways networks do:
 * `stall()` stops forwarding on the open connections without closing them (no FIN, no RST, no
 * data: a frozen NAT, a dead Wi-Fi); `cut()` resets them. New connections are forwarded normally.
 */
import net from 'node:net';

export class TcpProxy {
  readonly #server: net.Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket; stalled: boolean }>();
  port = 0;

  constructor(targetUrl: string) {
    const url = new URL(targetUrl);
    this.#target = { host: url.hostname, port: Number(url.port) };
    this.#server = net.createServer((client) => this.#accept(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  /** Points new connections at another target (an edge restarted on a new port). */
  retarget(targetUrl: string): void {
    const url = new URL(targetUrl);
    this.#target.host = url.hostname;
    this.#target.port = Number(url.port);
  }

  get connections(): number {
    return [...this.#pairs].filter((p) => !p.stalled).length;
  }

  #accept(client: net.Socket): void {
    const upstream = net.connect(this.#target.port, this.#target.host);
    const pair = { client, upstream, stalled: false };
    this.#pairs.add(pair);
    // Data is forwarded by hand (not pipe) so that a stall can drop it silently.
    client.on('data', (d) => {
      if (!pair.stalled) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!pair.stalled) client.write(d);
    });
    const end = () => {
      if (pair.stalled) return; // a stalled link says nothing, not even goodbye
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => {});
    upstream.on('error', () => {});
  }

  /** Open connections stop carrying data in both directions and are never closed by the proxy. */
  stall(): number {
    let n = 0;
    for (const pair of this.#pairs) {
      if (pair.stalled) continue;
      pair.stalled = true;
      n++;
    }
    return n;
  }

  /** Open connections are reset. */
  cut(): number {
    let n = 0;
    for (const pair of this.#pairs) {
      pair.stalled = false;
      pair.client.resetAndDestroy();
      pair.upstream.resetAndDestroy();
      this.#pairs.delete(pair);
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
