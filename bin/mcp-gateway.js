#!/usr/bin/env node
// The `mcp-gateway` command. Needs Node 22.18+ (runs the TypeScript sources directly).
import "../cli/main.ts";
