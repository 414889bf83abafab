#!/usr/bin/env node
/**
 * The holder's signing agent as a program: `node examples/emr/dist/src/agent/main.js --token FILE
 * [--token FILE…] [--port 17321] [--allow-origin http://127.0.0.1:8700 …]`. See agent.ts.
 */
import { parseArgs } from 'node:util';
import { startAgent } from './agent.js';

const { values } = parseArgs({ options: { token: { type: 'string', multiple: true }, port: { type: 'string' }, 'allow-origin': { type: 'string', multiple: true } } });
if (!values.token?.length) {
  console.error('usage: agent --token FILE [--token FILE…] [--port 17321] [--allow-origin ORIGIN…]');
  process.exit(2);
}
const agent = await startAgent({
  tokens: values.token.map((file) => ({ file })),
  port: Number(values.port ?? 17321),
  allowedOrigins: values['allow-origin'] ?? ['http://127.0.0.1:8700', 'http://localhost:8700'],
});
console.log(`signing agent at ${agent.url}`);
