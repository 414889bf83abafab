/**
 * Fees (Art. 19–20): the pure split (exact integers in fen, remainders to the earliest systems),
 * and over HTTP on SQLite and PostgreSQL with an injected clock — versioned fee schedules set by
 * the national office (no back-dating, no replacing), the shared first issuance paid by builders
 * or, for a public-facing system, the applicant; annual fees paid by the using unit; statements
 * per system and per unit as JSON (fen) and CSV (yuan); who may read them; bad input 4xx.
 * The scenario is the worked example of docs/platform.md ("Information systems and fees").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildPlatformApp } from '../src/platform/server.js';
import { openPlatformServices, type PlatformServices } from '../src/platform/service.js';
import { addYears, allocate, splitEvenly } from '../src/platform/fees/allocation.js';
import { fenToYuan } from '../src/platform/fees/statements.js';
import type { InformationSystem, Usage } from '../src/platform/systems/systems.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { application } from './helpers/platform.js';
import { organisationCode, residentId } from './helpers/holders.js';

describe('fee arithmetic', () => {
  test('splitEvenly: exact shares, the remainder one fen each to the first', () => {
    assert.deepEqual(splitEvenly(10000, 3), [3334, 3333, 3333]);
    assert.deepEqual(splitEvenly(10001, 3), [3334, 3334, 3333]);
    assert.deepEqual(splitEvenly(1, 3), [1, 0, 0]);
    assert.deepEqual(splitEvenly(0, 2), [0, 0]);
    assert.deepEqual(splitEvenly(9_999_999, 1), [9_999_999]);
    for (let total = 0; total < 500; total += 7) {
      for (let n = 1; n <= 13; n++) {
        const s = splitEvenly(total, n);
        assert.equal(s.reduce((a, b) => a + b, 0), total);
        assert.ok(Math.max(...s) - Math.min(...s) <= 1 && s.every((x, i) => i === 0 || x <= s[i - 1]!));
      }
    }
    assert.throws(() => splitEvenly(100, 0), RangeError);
    assert.throws(() => splitEvenly(10.5, 2), RangeError);
    assert.throws(() => splitEvenly(-1, 2), RangeError);
  });

  test('fenToYuan and addYears', () => {
    assert.deepEqual([0, 5, 50, 100, 3333, 123456, -250].map(fenToYuan), ['0.00', '0.05', '0.50', '1.00', '33.33', '1234.56', '-2.50']);
    assert.equal(addYears('2025-03-01T00:00:00.000Z', 1), '2026-03-01T00:00:00.000Z');
    assert.equal(addYears('2024-02-29T10:00:00.000Z', 1), '2025-03-01T10:00:00.000Z');
  });

  test('allocate: equal registration dates break ties by system id; a later joiner inside the first year shares', () => {
    const sys = (id: string, publicFacing = false): InformationSystem =>
      ({ id, publicFacing, builder: { code: `B-${id}`, name: id }, operator: { code: `O-${id}`, name: id } }) as InformationSystem;
    const systems = new Map(['b', 'a', 'c'].map((id) => [id, sys(id, id === 'c')]));
    const holder = { kind: 'resident-id' as const, value: residentId() };
    const u = (system: string, firstUsedAt: string): Usage => ({ system, holder, ca: 'x', class: 'internal-staff', firstUsedAt });
    const schedules = [{ effectiveFrom: '2020-01-01', prices: { 'internal-staff': { firstIssuance: 200, annualService: 70 } }, note: '', createdAt: '', createdBy: '' }];
    const lines = allocate({
      usage: [u('b', '2025-01-01T00:00:00.000Z'), u('c', '2025-12-31T23:59:59.999Z'), u('a', '2025-01-01T00:00:00.000Z'), u('d-late', '2026-01-01T00:00:00.000Z')],
      systems,
      schedules,
      from: '2025-01-01T00:00:00.000Z',
      to: '2027-01-01T00:00:00.000Z',
      now: '2026-06-01T00:00:00.000Z',
    });
    const first = lines.filter((l) => l.kind === 'first-issuance');
    assert.deepEqual(first.map((l) => [l.system, l.amount, l.sharedBy, l.payer.kind]), [['a', 67, 3, 'builder'], ['b', 67, 3, 'builder'], ['c', 66, 3, 'applicant']]);
    assert.ok(first.every((l) => !l.provisional));
    const annual = lines.filter((l) => l.kind === 'annual-service');
    assert.deepEqual(annual.map((l) => [l.date, l.system, l.amount, l.payer.code]), [['2026-01-01T00:00:00.000Z', 'a', 70, 'O-a']]);
  });
});

// Units of the worked example (organisation codes with valid check characters).
const B1 = organisationCode('11111111'); // builds gd-emr
const O1 = organisationCode('22222222'); // operates gd-emr
const B2 = organisationCode('33333333');
const O2 = organisationCode('44444444');
const B3 = organisationCode('55555555');
const O3 = organisationCode('66666666');
const U1 = organisationCode('77777777'); // the hospital whose doctor H1 is
const ORG5 = organisationCode('88888888'); // a company applying through the public portal
const H = [residentId('19800101', 1), residentId('19810202', 2), residentId('19820303', 3), residentId('19830404', 4), residentId('19840505', 6)];

for (const backendName of BACKENDS) {
  describe(`platform fees on ${backendName}`, () => {
    let backend: TestBackend;
    let services: PlatformServices;
    let app: FastifyInstance;
    let now = new Date('2024-12-20T00:00:00.000Z');
    const tok: Record<string, string> = {};

    const call = async (who: string | undefined, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const r = await app.inject({ method, url, headers: who ? { authorization: `Bearer ${tok[who] ?? who}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
      return { status: r.statusCode, type: String(r.headers['content-type'] ?? ''), headers: r.headers, body: r.headers['content-type']?.toString().startsWith('application/json') ? r.json() : r.body };
    };
    const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const r = await call(who, method, url, payload);
      assert.ok(r.status < 300, `${method} ${url} as ${who}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as any;
    };
    const fails = async (who: string | undefined, method: 'GET' | 'POST', url: string, payload: unknown, status: number, error?: string) => {
      const r = await call(who, method, url, payload);
      assert.equal(r.status, status, `${method} ${url} as ${who}: ${JSON.stringify(r.body)}`);
      if (error) assert.equal((r.body as any).error, error, JSON.stringify(r.body));
    };
    const prices = (staffAnnual: number) => ({
      'internal-staff': { firstIssuance: 10000, annualService: staffAnnual },
      'internal-organization': { firstIssuance: 20000, annualService: 5000 },
      'external-person': { firstIssuance: 5000, annualService: 2000 },
      'external-organization': { firstIssuance: 15000, annualService: 4000 },
    });
    const use = (system: string, records: Array<[string, 'resident-id' | 'organisation', string, string, string?]>) =>
      ok('prov-GD', 'POST', `/platform/systems/${system}/usage`, { records: records.map(([value, kind, cls, at, unit]) => ({ holder: { kind, value }, ca: 'gd-ca', class: cls, at, ...(unit ? { unit } : {}) })) });
    const statement = (who: string, path: string, from: string, to: string) => ok(who, 'GET', `/platform/fees/statements/${path}?from=${from}&to=${to}`);
    const amounts = (s: any) => s.lines.map((l: any) => [l.date.slice(0, 10), l.kind, l.system, l.amount, l.payer.kind, l.payer.code]);

    before(async () => {
      backend = await createBackend(backendName);
      services = await openPlatformServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, clock: () => now, identityAlgorithm: 'p256' });
      app = await buildPlatformApp(services, { logger: false });
      tok.national = readFileSync(services.adminTokenFile, 'utf8').trim();
      const mint = async (id: string, spec: Record<string, string>) => (tok[id] = (await ok('national', 'POST', '/platform/tokens', { id, ...spec })).token);
      await mint('prov-GD', { role: 'provincial', province: 'GD' });
      await mint('prov-BJ', { role: 'provincial', province: 'BJ' });
      await mint('auditor', { role: 'auditor' });
      await mint('gd-ca', { role: 'ca', ca: 'gd-ca' });
      await ok('gd-ca', 'POST', '/platform/cas', application('gd-ca', 'GD'));
      await ok('prov-GD', 'POST', '/platform/cas/gd-ca/province-review', { approve: true });
      await ok('national', 'POST', '/platform/cas/gd-ca/conformance', { passed: true });
      await ok('national', 'POST', '/platform/cas/gd-ca/approve', {});
    });
    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    test('fee schedules: the national office, dated today or later, never replaced', async () => {
      const s1 = await ok('national', 'POST', '/platform/fees/schedules', { effectiveFrom: '2025-01-01', prices: prices(3000), note: '2025 prices' });
      assert.equal(s1.effectiveFrom, '2025-01-01');
      await fails('national', 'POST', '/platform/fees/schedules', { effectiveFrom: '2025-01-01', prices: prices(1) }, 409, 'platform.fees.exists');
      now = new Date('2026-01-10T00:00:00.000Z');
      await fails('national', 'POST', '/platform/fees/schedules', { effectiveFrom: '2026-01-09', prices: prices(3500) }, 400, 'platform.fees.backdated');
      await ok('national', 'POST', '/platform/fees/schedules', { effectiveFrom: '2026-02-01', prices: prices(3500) });
      const bad: Array<[unknown, string]> = [
        [{ effectiveFrom: '2026-02-30', prices: prices(1) }, 'platform.fees.date'],
        [{ effectiveFrom: '1 March 2026', prices: prices(1) }, 'platform.fees.date'],
        [{ effectiveFrom: '2026-03-01', prices: { ...prices(1), 'internal-staff': undefined } }, 'platform.fees.class'],
        [{ effectiveFrom: '2026-03-01', prices: { ...prices(1), 'root-ca': { firstIssuance: 1, annualService: 1 } } }, 'platform.fees.class'],
        [{ effectiveFrom: '2026-03-01', prices: prices(-1) }, 'platform.fees.price'],
        [{ effectiveFrom: '2026-03-01', prices: prices(12.5) }, 'platform.fees.price'],
        [{ effectiveFrom: '2026-03-01', prices: prices(10_000_001) }, 'platform.fees.price'],
        [{ effectiveFrom: '2026-03-01', prices: { ...prices(1), 'external-person': { firstIssuance: '50', annualService: 1 } } }, 'platform.fees.price'],
        [{ effectiveFrom: '2026-03-01', prices: [] }, 'platform.fees.prices'],
        [{ effectiveFrom: '2026-03-01', prices: prices(1), note: 5 }, 'platform.fees.note'],
      ];
      for (const [body, code] of bad) await fails('national', 'POST', '/platform/fees/schedules', body, 400, code);
      for (const who of ['prov-GD', 'gd-ca', 'auditor']) await fails(who, 'POST', '/platform/fees/schedules', { effectiveFrom: '2026-03-01', prices: prices(1) }, 403, 'platform.role');
      await fails(undefined, 'POST', '/platform/fees/schedules', { effectiveFrom: '2026-03-01', prices: prices(1) }, 401);
      for (const who of ['national', 'prov-BJ', 'gd-ca', 'auditor']) assert.deepEqual((await ok(who, 'GET', '/platform/fees/schedules')).schedules.map((s: any) => s.effectiveFrom), ['2025-01-01', '2026-02-01']);
    });

    test('the worked example: shared first issuance, annual fees, statements per system and per unit', async () => {
      now = new Date('2026-06-01T00:00:00.000Z');
      const reg = (id: string, extra: Record<string, unknown>) =>
        ok('prov-GD', 'POST', '/platform/systems', { id, displayName: id, acceptedCas: ['gd-ca'], userGroups: ['internal-staff'], publicFacing: false, ...extra });
      await reg('gd-emr', { category: 'medical-care', builder: { code: B1, name: 'Builder One' }, operator: { code: O1, name: 'Operator One' } });
      await reg('gd-phis', { category: 'public-health', builder: { code: B2, name: 'Builder Two' }, operator: { code: O2, name: 'Operator Two' } });
      await reg('gd-portal', { category: 'administrative-approval', publicFacing: true, builder: { code: B3, name: 'Builder Three' }, operator: { code: O3, name: 'Operator Three' }, userGroups: ['internal-staff', 'external-person', 'external-organization'] });
      await use('gd-emr', [[H[0]!, 'resident-id', 'internal-staff', '2025-03-01', U1], [H[1]!, 'resident-id', 'internal-staff', '2025-03-01'], [H[2]!, 'resident-id', 'internal-staff', '2025-04-01'], [H[4]!, 'resident-id', 'internal-staff', '2026-05-01']]);
      await use('gd-phis', [[H[0]!, 'resident-id', 'internal-staff', '2025-06-01'], [H[2]!, 'resident-id', 'internal-staff', '2026-05-01']]);
      await use('gd-portal', [[H[0]!, 'resident-id', 'internal-staff', '2025-09-01'], [H[3]!, 'resident-id', 'external-person', '2025-05-01'], [ORG5, 'organisation', 'external-organization', '2025-07-01']]);
      await ok('prov-GD', 'POST', '/platform/systems/gd-emr/usage/end', { records: [{ holder: { kind: 'resident-id', value: H[1] }, ca: 'gd-ca', class: 'internal-staff', at: '2026-01-15' }] });

      const y2025 = ['2025-01-01', '2026-01-01'] as const;
      const y2026 = ['2026-01-01', '2027-01-01'] as const;
      // H1's 100.00 yuan, shared by the three systems that registered it in its first year: 33.34 to the earliest.
      const emr25 = await statement('prov-GD', 'systems/gd-emr', ...y2025);
      assert.deepEqual(amounts(emr25), [
        ['2025-03-01', 'first-issuance', 'gd-emr', 3334, 'builder', B1],
        ['2025-03-01', 'first-issuance', 'gd-emr', 10000, 'builder', B1],
        ['2025-04-01', 'first-issuance', 'gd-emr', 10000, 'builder', B1],
      ]);
      assert.deepEqual(emr25.lines.map((l: any) => l.sharedBy), [3, 1, 1]);
      assert.deepEqual(emr25.totals, { firstIssuance: 23334, annualService: 0, total: 23334, unpricedLines: 0, provisionalLines: 0 });
      assert.equal(emr25.lines[0].holder, `${H[0]!.slice(0, 6)}********${H[0]!.slice(14)}`, 'resident IDs are masked');
      assert.deepEqual(amounts(await statement('auditor', 'systems/gd-phis', ...y2025)), [['2025-03-01', 'first-issuance', 'gd-phis', 3333, 'builder', B2]]);
      const portal25 = await statement('national', 'systems/gd-portal', ...y2025);
      assert.deepEqual(amounts(portal25).map((l: any[]) => l.slice(0, 5)), [
        ['2025-03-01', 'first-issuance', 'gd-portal', 3333, 'applicant'],
        ['2025-05-01', 'first-issuance', 'gd-portal', 5000, 'applicant'],
        ['2025-07-01', 'first-issuance', 'gd-portal', 15000, 'applicant'],
      ]);
      assert.equal(portal25.totals.total, 23333);
      // The three shares of H1 add up to the price exactly.
      assert.equal(emr25.lines[0].amount + 3333 + portal25.lines[0].amount, 10000);

      // 2026: H1's anniversary at the new price (35.00), paid by its using unit U1 through the earliest internal system;
      // H2 ended before its anniversary; H3 joined gd-phis after its first year: no share, annual fee to gd-emr's operator;
      // H5's first issuance is still inside its first year: provisional.
      const emr26 = await statement('prov-GD', 'systems/gd-emr', ...y2026);
      assert.deepEqual(amounts(emr26), [
        ['2026-03-01', 'annual-service', 'gd-emr', 3500, 'using-unit', U1],
        ['2026-04-01', 'annual-service', 'gd-emr', 3500, 'using-unit', O1],
        ['2026-05-01', 'first-issuance', 'gd-emr', 10000, 'builder', B1],
      ]);
      assert.deepEqual(emr26.totals, { firstIssuance: 10000, annualService: 7000, total: 17000, unpricedLines: 0, provisionalLines: 1 });
      assert.deepEqual(amounts(await statement('prov-GD', 'systems/gd-phis', ...y2026)), []);
      // H4's anniversary on 2026-05-01 is due; ORG5's on 2026-07-01 is still ahead.
      assert.deepEqual(amounts(await statement('prov-GD', 'systems/gd-portal', ...y2026)).map((l: any[]) => l.slice(0, 5)), [['2026-05-01', 'annual-service', 'gd-portal', 2000, 'applicant']]);

      // A second system registers H5 within its first year: the provisional split changes.
      await use('gd-phis', [[H[4]!, 'resident-id', 'internal-staff', '2026-05-20']]);
      const emr26b = await statement('national', 'systems/gd-emr', ...y2026);
      assert.deepEqual([emr26b.lines[2].amount, emr26b.lines[2].sharedBy, emr26b.lines[2].provisional], [5000, 2, true]);

      // Per unit.
      const b1 = await statement('national', `units/${B1}`, ...y2025);
      assert.equal(b1.subject.name, 'Builder One');
      assert.equal(b1.totals.total, 23334);
      assert.deepEqual((await statement('auditor', `units/${U1}`, ...y2026)).totals.total, 3500);
      assert.deepEqual((await statement('prov-GD', `units/${O1}`, ...y2026)).totals.total, 3500);
      const org = await statement('national', `units/${ORG5}`, ...y2025);
      assert.deepEqual(amounts(org), [['2025-07-01', 'first-issuance', 'gd-portal', 15000, 'applicant', ORG5]], 'an organisation that applied through a public system pays its own certificate');
      const bj = await statement('prov-BJ', `units/${B1}`, ...y2025);
      assert.deepEqual([bj.lines.length, bj.totals.total], [0, 0], 'another province sees none of GD’s charges');
    });

    test('CSV export: amounts in yuan, a total line', async () => {
      const r = await call('prov-GD', 'GET', '/platform/fees/statements/systems/gd-emr?from=2026-01-01&to=2027-01-01&format=csv');
      assert.equal(r.status, 200);
      assert.match(r.type, /^text\/csv/);
      assert.match(String(r.headers['content-disposition']), /fees-system-gd-emr\.csv/);
      const rows = String(r.body).trimEnd().split('\r\n').map((l) => l.split(','));
      assert.deepEqual(rows[0], ['date', 'kind', 'system', 'holder', 'ca', 'class', 'shared_by', 'price_yuan', 'amount_yuan', 'payer_kind', 'payer_code', 'payer_name', 'provisional', 'priced']);
      assert.deepEqual(rows.slice(1).map((c) => [c[1], c[7], c[8], c[9], c[12]]), [
        ['annual-service', '35.00', '35.00', 'using-unit', 'false'],
        ['annual-service', '35.00', '35.00', 'using-unit', 'false'],
        ['first-issuance', '100.00', '50.00', 'builder', 'true'],
        ['', '', '120.00', '', ''],
      ]);
      assert.equal(rows.at(-1)![0], 'total');
      assert.match(rows[3]![11]!, /Builder One/);
      const unit = await call('auditor', 'GET', `/platform/fees/statements/units/${B1}?from=2025-01-01&to=2026-01-01&format=csv`);
      assert.equal(String(unit.body).trimEnd().split('\r\n').at(-1), 'total,,,,,,,,233.34,,,,,');
    });

    test('who reads statements, and bad queries', async () => {
      await fails('gd-ca', 'GET', '/platform/fees/statements/systems/gd-emr', undefined, 403, 'platform.role');
      await fails('gd-ca', 'GET', `/platform/fees/statements/units/${B1}`, undefined, 403, 'platform.role');
      await fails(undefined, 'GET', '/platform/fees/statements/systems/gd-emr', undefined, 401);
      await fails('prov-BJ', 'GET', '/platform/fees/statements/systems/gd-emr', undefined, 404, 'platform.system.unknown');
      await fails('national', 'GET', '/platform/fees/statements/systems/nothing-here', undefined, 404);
      await fails('national', 'GET', `/platform/fees/statements/units/${organisationCode('99999999')}`, undefined, 404, 'platform.fees.unit-unknown');
      await fails('national', 'GET', '/platform/fees/statements/units/ABC', undefined, 400, 'platform.identity.organisation');
      const bad = ['from=2026-02-01&to=2026-01-01', 'from=yesterday', 'to=2026-13-45', 'from=2000-01-01&to=2026-01-01', 'format=xml', 'from=2026-01-01&from=2026-02-01'];
      for (const q of bad) {
        const r = await call('national', 'GET', `/platform/fees/statements/systems/gd-emr?${q}`);
        assert.equal(r.status, 400, `${q}: ${JSON.stringify(r.body)}`);
      }
      // Without a period: the current calendar year.
      const cur = await ok('auditor', 'GET', '/platform/fees/statements/systems/gd-emr');
      assert.deepEqual([cur.from, cur.to], ['2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
    });

    test('a charge with no schedule in force is listed unpriced, not guessed', async () => {
      now = new Date('2026-06-02T00:00:00.000Z');
      await ok('prov-GD', 'POST', '/platform/systems', { id: 'gd-old', displayName: 'old system', category: 'other', acceptedCas: ['gd-ca'], userGroups: ['internal-staff'], publicFacing: false, operator: { code: O2, name: 'Operator Two' } });
      await use('gd-old', [[residentId('19700707', 7), 'resident-id', 'internal-staff', '2015-06-01']]);
      const s = await statement('national', 'systems/gd-old', '2015-01-01', '2017-01-01');
      assert.deepEqual(s.lines.map((l: any) => [l.kind, l.amount, l.priced]), [['first-issuance', 0, false], ['annual-service', 0, false]]);
      assert.equal(s.totals.unpricedLines, 2);
    });
  });
}
