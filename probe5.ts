import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { liveHeap, workerdDebuggerUrl } from './test/soak/heap.ts';
const bin = './node_modules/@cloudflare/workerd-linux-64/bin/workerd';
const child = spawn(bin, ['serve', '--experimental', '/tmp/i16c-wd/cd.capnp', '--inspector-addr=127.0.0.1:18788'], { stdio: 'inherit' });
await new Promise((r) => setTimeout(r, 1500));
const host = new WebSocket('ws://127.0.0.1:18787/agent');
host.on('message', (d) => { const m = JSON.parse(d.toString()); host.send(JSON.stringify({ id: m.id, text: 'echo ' + m.text })); });
await new Promise((r) => host.once('open', r));
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'latin1'))![1]) / 1024;
for (let round = 0; round <= 4; round++) {
  if (round > 0) {
    let n = 0;
    await Promise.all(Array.from({ length: 32 }, async () => { while (n < 10000) { n++; const r = await fetch('http://127.0.0.1:18787/', { method: 'POST', body: 'x' + n }); await r.text(); } }));
  }
  const h = await liveHeap(await workerdDebuggerUrl('127.0.0.1:18788'), async () => { await (await fetch('http://127.0.0.1:18787/', { method: 'POST', body: 'poke' })).text(); });
  console.log(`do+timer round ${round}: RSS ${rss().toFixed(1)} heap ${h ? (h.used / 1048576).toFixed(1) : '?'}`);
}
await new Promise((r) => setTimeout(r, 35000));
const h2 = await liveHeap(await workerdDebuggerUrl('127.0.0.1:18788'), async () => { await (await fetch('http://127.0.0.1:18787/', { method: 'POST', body: 'poke' })).text(); });
console.log(`35 s later: RSS ${rss().toFixed(1)} heap ${h2 ? (h2.used / 1048576).toFixed(1) : '?'}`);
host.terminate();
child.kill('SIGKILL');
