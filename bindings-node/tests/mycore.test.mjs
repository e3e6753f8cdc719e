// mycore: validation reports (valid, issues, toOperationOutcome), the builders as option
// objects, the scheduling and booking bundles, finish-encounter and the VC view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mycore, fhir, HieVcError } from 'hie-vc';
import { specDir } from './support.mjs';

const example = (name) => JSON.parse(readFileSync(join(specDir(), 'mycore-ig', 'examples', name), 'utf8'));
const TIMES = { start: '2030-07-10T21:00:00+08:00', end: '2030-07-10T22:00:00+08:00' };

test('a built VCI appointment is valid MY Core', () => {
  const a = mycore.vciAppointment({ id: 'appt-1', specialty: '86', patient: { id: 'p1', display: 'Siti' }, slot: 'slot-1', ...TIMES });
  assert.equal(a.resourceType, 'Appointment');
  assert.equal(a.id, 'appt-1');
  assert.equal(a.status, 'booked');
  const report = mycore.validate(a);
  assert.equal(report.valid, true, report.summary);
  assert.equal(report.errors, 0);
  const oo = report.toOperationOutcome();
  assert.equal(oo.resourceType, 'OperationOutcome');
});

test('an invalid resource gives issues with rules and locations, and an OperationOutcome of them', () => {
  const enc = example('vce-enc-example.json');
  delete enc.class;
  const report = mycore.validate(enc, { lenient: true });
  assert.equal(report.valid, false);
  assert.ok(report.errors >= 1);
  const issue = report.issues.find((i) => i.severity === 'error');
  assert.ok(issue.rule.length > 0 && issue.location.startsWith('Encounter'));
  const oo = report.toOperationOutcome();
  assert.ok(oo.issue.some((i) => i.severity === 'error'));
  assert.deepEqual(report.toJSON().issues, report.issues);
});

test('acceptPublishedQuirks lets the published examples pass', () => {
  for (const name of ['vci-app-example.json', 'vci-enc-example.json', 'vce-app-example.json', 'vce-enc-example.json']) {
    const r = mycore.validate(example(name), { acceptPublishedQuirks: true });
    assert.equal(r.valid, true, `${name}: ${r.summary}`);
  }
});

test('a builder refuses a bad option by name', () => {
  assert.throws(() => mycore.appointment({ id: 'a', colour: 'blue' }), (e) => e instanceof HieVcError && e.code === 'HIEVC_INVALID_INPUT' && /colour/.test(e.message));
  assert.throws(() => mycore.schedule({ id: 's', start: TIMES.start }), { code: 'HIEVC_INVALID_INPUT' });
});

test('schedule, slot and the scheduling and booking bundles', () => {
  const schedule = mycore.schedule({ id: 'sch-1', vcType: 'VCI', specialty: '86', healthcareService: { id: 'hs-1', display: 'Clinic' }, ...TIMES });
  const slot = mycore.slot({ id: 'slt-1', vcType: 'VCI', schedule: 'sch-1', quota: 2, specialty: '86', ...TIMES });
  assert.equal(schedule.resourceType, 'Schedule');
  assert.equal(slot.resourceType, 'Slot');
  const sb = mycore.schedulingBundle(schedule, [slot]);
  assert.equal(sb.type, 'transaction');
  assert.equal(sb.entry.length, 2);
  const appt = mycore.vciAppointment({ id: 'app-1', specialty: '86', patient: { id: 'p1', display: 'Siti' }, slot: 'slt-1', ...TIMES });
  const bb = mycore.bookingBundle(appt, slot);
  assert.equal(bb.type, 'transaction');
  assert.ok(bb.entry.some((e) => e.resource.resourceType === 'Slot'));
  assert.throws(() => mycore.bookingBundle(slot, slot), { code: 'HIEVC_INVALID_INPUT' });
});

test('finishEncounter and the VC view', () => {
  const enc = example('vci-enc-example.json');
  const vc = mycore.vcView(enc);
  assert.equal(vc.type, 'VCI');
  const done = mycore.finishEncounter(enc, '2030-07-10T22:00:00+08:00');
  assert.equal(done.status, 'finished');
  assert.equal(done.period.end, '2030-07-10T22:00:00+08:00');
  const notVc = { resourceType: 'Encounter', id: 'e', status: 'in-progress', class: { code: 'AMB' } };
  assert.throws(() => mycore.vcView(notVc), { code: 'HIEVC_INVALID_INPUT' });
  assert.throws(() => mycore.vcView(example('vci-app-example.json')), { code: 'HIEVC_INVALID_INPUT' });
  assert.equal(fhir.read(done).resource.status, 'finished');
});
