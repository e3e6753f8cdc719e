// Jitsi (the provider the settings name) and Notifier, standalone, on the sandbox's services.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Jitsi, Notifier, Sandbox, HieVcError } from 'hie-vc';

test('a Jitsi session: create, join, activate, end', async () => {
  const sb = await Sandbox.start();
  try {
    const jitsi = Jitsi.forSandbox(sb);
    assert.equal(jitsi.kind, 'hie-rest');
    const s = await jitsi.createSession();
    assert.ok(s.token);
    const join = await jitsi.join(s.token, { role: 'practitioner', id: 'prac-1', name: 'DR AMINAH' });
    assert.match(join.url, /^https?:\/\//);
    assert.equal(join.role, 'practitioner');
    await jitsi.activate(s.token);
    assert.equal(await jitsi.end(s.token), 'ended');
    const rec = sb.jitsiSessions().find((x) => x.token === s.token);
    assert.equal(rec.activations, 1);
    assert.equal(rec.endCalls, 1);
    await assert.rejects(jitsi.join(s.token, { role: 'nobody', id: 'x', name: 'x' }), (e) => e instanceof HieVcError && e.code === 'HIEVC_INVALID_INPUT');
  } finally {
    await sb.close();
  }
});

test('the Notifier logs in and sends; the sandbox records it; a failure is a HieVcError', async () => {
  const sb = await Sandbox.start();
  try {
    const n = Notifier.forSandbox(sb);
    await n.login();
    const sent = await n.send('Your consultation', 'Join now', ['950728106051']);
    assert.ok(sent.status >= 200 && sent.status < 300);
    const recs = sb.notifications();
    assert.equal(recs.length, 1);
    assert.equal(recs[0].title, 'Your consultation');
    assert.deepEqual(recs[0].patientIds, ['950728106051']);
    sb.setFaults('notify', { fail_next: 5, fail_status: 500 });
    await assert.rejects(n.send('t', 'b', ['950728106051']), (e) => e instanceof HieVcError && e.status === 500);
  } finally {
    await sb.close();
  }
});
