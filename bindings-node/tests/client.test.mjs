// HieClient on the embedded sandbox: every interaction, errors as HieVcError with the
// server's facts, AbortSignal stopping a call at once, search and history as async
// iterators over their pages, settings from the environment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { HieClient, HieVcError, Sandbox, mycore } from 'hie-vc';

let sb;
let client;
before(async () => {
  sb = await Sandbox.start({ checkReferences: false });
  client = sb.client({ hie: { max_retries: 0 } });
});
after(async () => {
  await sb.close();
});

const patient = (id, name = 'Siti') => ({ resourceType: 'Patient', id, name: [{ text: name }] });

test('create, read, vread, update with ifMatch, delete', async () => {
  const created = await client.create({ resourceType: 'Patient', name: [{ text: 'Aminah' }] });
  assert.equal(created.status, 201);
  assert.equal(created.kind, 'created');
  const id = created.id;
  const got = await client.read('Patient', id);
  assert.equal(got.resource.name[0].text, 'Aminah');
  assert.equal(got.versionId, '1');
  assert.ok(got.requestId);
  const updated = await client.update({ ...got.resource, name: [{ text: 'Aminah B' }] }, { ifMatch: got.versionId });
  assert.equal(updated.versionId, '2');
  await assert.rejects(client.update({ ...got.resource }, { ifMatch: '1' }), (e) => e instanceof HieVcError && e.status === 412 && e.code === 'HIEVC_PRECONDITION_FAILED');
  const v1 = await client.vread('Patient', id, 1);
  assert.equal(v1.resource.name[0].text, 'Aminah');
  const deleted = await client.delete('Patient', id);
  assert.ok(deleted.status >= 200 && deleted.status < 300);
  await assert.rejects(client.read('Patient', id), (e) => e.code === 'HIEVC_GONE' || e.code === 'HIEVC_NOT_FOUND');
});

test('a 404 is HIEVC_NOT_FOUND with status, request id and the server OperationOutcome', async () => {
  const e = await client.read('Patient', 'nope').then(
    () => assert.fail('no such patient'),
    (err) => err,
  );
  assert.ok(e instanceof HieVcError && e instanceof Error);
  assert.equal(e.code, 'HIEVC_NOT_FOUND');
  assert.equal(e.status, 404);
  assert.ok(e.requestId);
  assert.equal(e.outcome.resourceType, 'OperationOutcome');
  assert.equal(e.retryable, false);
});

test('client-side validation fails with the report, before any request', async () => {
  const v = sb.client({ hie: { max_retries: 0, validate: true } });
  const bad = mycore.vciAppointment({ id: 'a-bad', specialty: '86', patient: { id: 'p1', display: 'Siti' }, start: '2030-01-01T09:00:00+08:00', end: '2030-01-01T09:30:00+08:00' });
  bad.participant[0].actor.display = undefined;
  const before = sb.stats().fhir.requests;
  const e = await v.update(bad).then(() => null, (err) => err);
  assert.ok(e instanceof HieVcError);
  assert.equal(e.code, 'HIEVC_VALIDATION');
  assert.equal(e.report.valid, false);
  assert.equal(e.report.toOperationOutcome().resourceType, 'OperationOutcome');
  assert.equal(sb.stats().fhir.requests, before);
});

test('search is an async iterator over every page', async () => {
  for (let i = 0; i < 5; i++) await client.update(patient(`srch-${i}`, 'Paged'));
  const pages = [];
  for await (const page of client.search('Patient', { name: 'Paged', _count: 2 })) pages.push(page);
  assert.equal(pages.length, 3);
  assert.deepEqual(pages.map((p) => p.matches.length), [2, 2, 1]);
  const ids = [];
  for await (const r of client.search('Patient', [['name', 'Paged'], ['_count', '2']]).resources()) ids.push(r.id);
  assert.deepEqual(ids.sort(), ['srch-0', 'srch-1', 'srch-2', 'srch-3', 'srch-4']);
  const limited = [];
  for await (const page of client.search('Patient', new URLSearchParams({ name: 'Paged', _count: '2' }), { maxPages: 1 })) limited.push(page);
  assert.equal(limited.length, 1);
});

test('history of an instance, batch and transaction, capabilities', async () => {
  await client.update(patient('hist-1', 'One'));
  await client.update(patient('hist-1', 'Two'));
  assert.throws(() => client.history({ id: 'hist-1' }), (e) => e instanceof HieVcError && e.code === 'HIEVC_INVALID_INPUT');
  const versions = [];
  for await (const r of client.history({ resourceType: 'Patient', id: 'hist-1' }).resources()) versions.push(r.name[0].text);
  assert.deepEqual(versions.sort(), ['One', 'Two']);
  const bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { resource: patient('b-1'), request: { method: 'PUT', url: 'Patient/b-1' } },
      { request: { method: 'GET', url: 'Patient/nope' } },
    ],
  };
  const out = await client.batch(bundle);
  assert.equal(out.entries.length, 2);
  assert.equal(out.entries[1].status, 404);
  const tx = await client.transaction({ ...bundle, entry: [bundle.entry[0]] });
  assert.equal(tx.entries.length, 1);
  const caps = await client.capabilities();
  assert.ok(caps.resourceTypes.includes('Patient'));
});

test('an AbortSignal stops a slow call at once; an aborted signal stops it before it starts', async () => {
  sb.setFaults('fhir', { latency_ms: 5000 });
  try {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(client.read('Patient', 'srch-0', { signal: ac.signal }), { name: 'AbortError' });
    assert.ok(Date.now() - t0 < 1000, `aborted after ${Date.now() - t0} ms`);
    const reason = new Error('the user left');
    await assert.rejects(client.read('Patient', 'srch-0', { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    await assert.rejects(client.read('Patient', 'srch-0', { signal: AbortSignal.timeout(30) }), { name: 'TimeoutError' });
  } finally {
    sb.clearFaults();
  }
  // the client still works after aborts
  assert.equal((await client.read('Patient', 'srch-0')).resource.id, 'srch-0');
});

test('a per-call timeout and retries of a 503', async () => {
  sb.setFaults('fhir', { latency_ms: 2000 });
  try {
    await assert.rejects(client.read('Patient', 'srch-0', { timeoutMs: 100 }), { code: 'HIEVC_TIMEOUT' });
  } finally {
    sb.clearFaults();
  }
  const retrying = sb.client({ hie: { max_retries: 2, retry_initial_backoff_ms: 10 } });
  sb.setFaults('fhir', { fail_next: 1, fail_status: 503 });
  assert.equal((await retrying.read('Patient', 'srch-0')).resource.id, 'srch-0');
  sb.setFaults('fhir', { unavailable: 1.0 });
  try {
    await assert.rejects(client.read('Patient', 'srch-0'), (e) => e.code === 'HIEVC_SERVICE_UNAVAILABLE' && e.retryable === true && e.status === 503);
  } finally {
    sb.clearFaults();
  }
});

test('new HieClient({ url, auth }) sends the bearer token; no error message shows it', async () => {
  const c = new HieClient({ url: sb.fhirBase, auth: { bearer: 's3cret-token' }, timeoutMs: 2000, retry: { maxRetries: 0 } });
  assert.equal(c.baseUrl.replace(/\/$/, ''), sb.fhirBase.replace(/\/$/, ''));
  assert.equal((await c.read('Patient', 'srch-0')).resource.id, 'srch-0');
  const e = await c.read('Patient', 'nope').then(() => null, (err) => err);
  assert.ok(!JSON.stringify(e.toJSON()).includes('s3cret-token'));
  assert.ok(!String(e.stack).includes('s3cret-token'));
  assert.throws(() => new HieClient({ url: 'not a url' }), (err) => err instanceof HieVcError && err.code === 'HIEVC_CONFIG');
});

test('HieClient.fromSettings reads the HIE_VC_* environment, as the CLI does', () => {
  const script = "const { HieClient } = require('hie-vc'); console.log(HieClient.fromSettings().baseUrl)";
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, HIE_VC_HIE_URL: 'http://127.0.0.1:9/fhir/' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'http://127.0.0.1:9/fhir/');
});
