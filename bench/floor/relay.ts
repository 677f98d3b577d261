/**
 * The architecture floor's host side, the least a relay can do: it starts the floor's workerd
 * (bench/floor/worker.js), opens one WebSocket to it (no permessage-deflate, as the gateway's
 * host), starts the MCP server, and from then on writes each WebSocket message to the server's
 * stdin as a line and sends each line of the server's stdout back as a message. No validation,
 * no routing, no parsing: bytes in, bytes out.
 *
 *   node bench/floor/relay.ts <workerd config file> <server command> [server args...]
 *
 * Prints `floor ready at http://127.0.0.1:<port>` once all three are up. workerd and the server
 * die with it. Started by bench/floor/target.ts for `npm run bench`.
 */
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { diesWithParent, listening, spawnWorkerd } from './workerd.ts';

const NL = Buffer.from('\n');
const [configFile, command, ...args] = process.argv.slice(2);
if (!configFile || !command) {
  console.error('usage: node bench/floor/relay.ts <workerd config file> <server command> [args...]');
  process.exit(64);
}

const workerd = spawnWorkerd(configFile);
const port = await listening(workerd);
const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
await new Promise((resolve, reject) => {
  ws.once('open', resolve);
  ws.once('error', reject);
});
const [serverCommand, serverArgs] = diesWithParent(command, args);
const server = spawn(serverCommand, serverArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
const stdin = server.stdin!;

// A message: one line on the server's stdin, written with one system call.
ws.on('message', (data: Buffer) => {
  stdin.cork();
  stdin.write(data);
  stdin.write(NL);
  stdin.uncork();
});

// A line of the server's stdout: one text message, its bytes as they are.
let partial: Buffer[] = [];
server.stdout!.on('data', (chunk: Buffer) => {
  let start = 0;
  for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
    const piece = chunk.subarray(start, nl);
    const line = partial.length ? Buffer.concat([...partial, piece]) : piece;
    partial = [];
    if (line.length) ws.send(line, { binary: false });
    start = nl + 1;
  }
  if (start < chunk.length) partial.push(chunk.subarray(start));
});

const stop = (code: number) => {
  workerd.kill('SIGKILL');
  server.kill('SIGKILL');
  process.exit(code);
};
ws.on('close', (code) => {
  console.error(`relay: the floor's WebSocket closed (${code})`);
  stop(1);
});
server.on('exit', (code, signal) => {
  console.error(`relay: the server exited (${signal ?? code})`);
  stop(1);
});
workerd.on('exit', () => stop(1));
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));

process.stdout.write(`floor ready at http://127.0.0.1:${port}\n`);
