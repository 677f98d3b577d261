#!/usr/bin/env node
// The `mcp-gateway` command. Needs Node 22.18+ (runs the TypeScript sources directly).
//
// Node keeps the JavaScript it stripped from the TypeScript sources (and V8's compiled code) in
// its compile cache, so a start after the first loads no type stripper: about 25 MiB less
// resident memory for the life of the process, and a faster start. The cache lives with the
// installed code (node_modules/.cache), writable by whoever installed it; NODE_COMPILE_CACHE
// chooses another place and NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import module from 'node:module';
import { fileURLToPath } from 'node:url';

if (!process.env.NODE_COMPILE_CACHE) {
  module.enableCompileCache?.(fileURLToPath(new URL('../node_modules/.cache/mcp-gateway-compile', import.meta.url)));
} else {
  module.enableCompileCache?.();
}
await import('../cli/main.ts');
// Written now, not only at exit: a start that is killed later still leaves the cache behind.
module.flushCompileCache?.();
