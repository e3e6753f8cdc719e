// The portal end to end on the embedded sandbox: book → check in → GET the visit → the join
// link is there, the patient was notified once, the practitioner joined once; a redelivered
// Encounter changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox } from 'hie-vc';
import { startPortal } from './server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('book, check in, GET the visit: the join link once the Encounter arrived', async () => {
  const sandbox = await Sandbox.start({ checkReferences: false });
  const portal = await startPortal({ sandbox });
  try {
    // the patient as HIE knows them (the notification goes to their MyKad number)
    await sandbox.client().update({
      resourceType: 'Patient',
      id: 'pt-syaza',
      identifier: [{ system: 'http://fhir.hie.moh.gov.my/sid/my-kad-no', value: '950728106051' }],
      name: [{ text: 'SYAZA NUR IZZATI' }],
    });
    const booked = await fetch(`${portal.url}/visits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: 'pt-syaza', patientName: 'SYAZA NUR IZZATI', start: '2030-07-10T21:00:00+08:00', end: '2030-07-10T22:00:00+08:00' }),
    });
    assert.equal(booked.status, 201);
    const visit = await booked.json();
    assert.equal(visit.status, 'booked');
    assert.equal(visit.joinUrl, null);
    const before = await (await fetch(`${portal.url}/visits/${visit.appointmentId}`)).json();
    assert.equal(before.joinUrl, null, 'no link before the patient checked in');

    const checkIn = await sandbox.checkIn(visit.appointmentId);
    let ready;
    for (let i = 0; i < 200; i++) {
      ready = await (await fetch(`${portal.url}/visits/${visit.appointmentId}`)).json();
      if (ready.status === 'ready') break;
      await sleep(50);
    }
    assert.equal(ready.status, 'ready');
    assert.match(ready.joinUrl, /^https?:\/\//);
    assert.equal(ready.encounterId, checkIn.encounterId);

    // the same check-in again (HIE republishes the Encounter): nothing is sent twice
    await sandbox.checkIn(visit.appointmentId);
    await sleep(500);
    const notes = sandbox.notifications();
    assert.equal(notes.length, 1, 'the patient was notified once');
    assert.deepEqual(notes[0].patientIds, ['950728106051']);
    const session = sandbox.jitsiSessions().find((s) => ready.joinUrl.includes(s.room));
    assert.ok(session, 'the link is of the session the check-in created');
    assert.equal(session.joins.filter((j) => j.role === 'practitioner').length, 1, 'the practitioner joined once');

    assert.equal((await fetch(`${portal.url}/visits/nope`)).status, 404);
  } finally {
    await portal.close();
    await sandbox.close();
  }
});
