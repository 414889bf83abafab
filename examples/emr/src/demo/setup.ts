/**
 * `--demo`: makes a one-machine demonstration work with one command. On first start it equips three
 * people with software tokens and certificates from the running deployment's two CAs (the doctor
 * from demo-sm2 with SM2, the nurse and the auditor from demo-p256 with P-256), registers them to
 * EMR accounts, and — every start — runs the holders' local signing agent over their tokens. In a
 * hospital each holder runs the agent on their own computer with their own token; the EMR never
 * needs this module.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { TrustStore } from '@health-pki/sdk';
import { startAgent, type RunningAgent } from '../agent/agent.js';
import { equipHolder, residentIdCheck, type DemoHolder } from './holders.js';

/** The demo PIN of every demo token (printed at start). */
export const DEMO_PIN = '123456';

/** The demo's people: who, which CA and algorithm, which EMR role. */
export const DEMO_PEOPLE = [
  { key: 'doctor', name: '张医生', ca: 'demo-sm2', alg: 'sm2', unit: '心内科', id17: '11010519800101001', role: 'doctor' },
  { key: 'nurse', name: '李护士', ca: 'demo-p256', alg: 'p256', unit: '心内科护理部', id17: '44010619900202002', role: 'nurse' },
  { key: 'auditor', name: '王审计', ca: 'demo-p256', alg: 'p256', unit: '医务处', id17: '31010119850303003', role: 'auditor' },
] as const;

/** What setUpDemo needs. */
export interface DemoOptions {
  data: string;
  caUrl: string;
  caAdminTokenFile: string;
  emr: FastifyInstance;
  trust: TrustStore;
  emrAdminToken: string;
  emrOrigin: string;
  agentPort: number;
}

/** Equips and registers the demo people once, then starts their signing agent. */
export async function setUpDemo(o: DemoOptions): Promise<RunningAgent> {
  // npm start admits its demo CAs in the background: wait (up to a minute) until the list names them.
  const wanted = [...new Set(DEMO_PEOPLE.map((p) => p.ca))];
  for (let i = 0; !wanted.every((ca) => o.trust.entry(ca)); i++) {
    if (i === 60) throw new Error(`the platform's trust list does not name ${wanted.join(' and ')}: are they admitted?`);
    if (i === 0) console.log(`demo: waiting for ${wanted.join(' and ')} on the platform's trust list…`);
    await new Promise((r) => setTimeout(r, 1000));
    await o.trust.refresh();
  }
  const dir = join(o.data, 'demo-tokens');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const p of DEMO_PEOPLE) {
    const file = join(dir, `${p.key}.tok`);
    if (existsSync(file)) continue;
    const holder: DemoHolder = { file, ca: p.ca, alg: p.alg, name: p.name, unit: p.unit, residentId: p.id17 + residentIdCheck(p.id17), pin: DEMO_PIN };
    const equipped = await equipHolder(holder, { caUrl: o.caUrl, adminToken: readFileSync(o.caAdminTokenFile, 'utf8').trim() });
    const r = await o.emr.inject({ method: 'POST', url: '/api/admin/accounts', headers: { authorization: `Bearer ${o.emrAdminToken}` }, payload: { certificate: equipped.certificatePem, account: p.key, roles: [p.role] } });
    if (r.statusCode !== 201 && r.statusCode !== 409) throw new Error(`registering ${p.name}: ${r.statusCode} ${r.body}`);
    writeFileSync(join(dir, `${p.key}.serial`), `${p.ca} ${equipped.serial}\n`);
    console.log(`demo: ${p.name} (${p.role}) has a ${p.alg.toUpperCase()} certificate from ${p.ca}, serial ${equipped.serial}, in ${file}`);
  }
  const agent = await startAgent({ tokens: DEMO_PEOPLE.map((p) => ({ file: join(dir, `${p.key}.tok`) })), allowedOrigins: [o.emrOrigin, o.emrOrigin.replace('127.0.0.1', 'localhost')], port: o.agentPort });
  console.log(`demo: signing agent for the demo tokens at ${agent.url} (PIN ${DEMO_PIN})`);
  return agent;
}
