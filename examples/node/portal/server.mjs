// A patient-portal backend on hie-vc (Node's own `http`): a patient books a VC-Internal
// consultation, the portal listens for the Encounter HIE publishes when the patient checks
// in, starts the session (the practitioner's join, the patient notified once) and serves the
// patient's join link on their visit.
//
//   POST /visits         {"patientId", "patientName", "start", "end"}  → 201 the visit
//   GET  /visits/:id     the visit: {"appointmentId", "status": "booked" | "ready", "joinUrl"}
//
//   node server.mjs      runs it on an embedded sandbox, with one more route standing in for
//                        the patient's arrival at the clinic (RekodSaya's check-in):
//   POST /visits/:id/check-in
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Jitsi, Listener, Sandbox, VirtualConsultation, HieVcError, mycore } from 'hie-vc';

const PRACTITIONER = { role: 'practitioner', id: 'prac-portal', name: 'DR AMINAH' };

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

/**
 * Starts the portal on `sandbox` (its HIE, Jitsi and Notification services and its event
 * source). Returns `{ url, close() }`.
 */
export async function startPortal({ sandbox, port = 0, host = '127.0.0.1', specialty = '86', checkInRoute = false }) {
  const vc = VirtualConsultation.forSandbox(sandbox);
  const jitsi = Jitsi.forSandbox(sandbox);
  /** appointment id → the visit (an in-memory store: a real portal keeps it in its database) */
  const visits = new Map();

  const listener = new Listener({ source: sandbox, groupId: 'patient-portal', retry: { maxRetries: 3, initialBackoffMs: 100 } });
  listener.on('error', (err) => console.error(`portal: an Encounter failed for good (${err.code}): ${err.message}`));
  const arrival = vc.arrivalHandler({
    // Only this portal's visits; the session starts with its practitioner.
    practitioner: (view) => (view.appointments.some((r) => visits.has(r.reference?.split('/').pop())) ? PRACTITIONER : null),
  });
  await listener.run({
    eachEncounter: async (event) => {
      const appointmentId = event.vc?.appointments.map((r) => r.reference?.split('/').pop()).find((id) => visits.has(id));
      if (!appointmentId) return; // not a visit booked here: acknowledged, nothing to do
      const started = await arrival(event);
      if (!started) throw new Error(`the session of ${appointmentId} did not start`);
      const visit = visits.get(appointmentId);
      const join = await jitsi.join(started.encounter.token, { role: 'patient', id: visit.patientId, name: visit.patientName });
      Object.assign(visit, { status: 'ready', encounterId: event.encounterId, joinUrl: join.url });
    },
  });

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://portal');
      if (req.method === 'POST' && url.pathname === '/visits') {
        const b = await body(req);
        const appointmentId = `portal-${randomUUID()}`;
        const appointment = mycore.vciAppointment({
          id: appointmentId,
          specialty,
          patient: { id: b.patientId, display: b.patientName },
          start: b.start,
          end: b.end,
        });
        visits.set(appointmentId, { appointmentId, patientId: b.patientId, patientName: b.patientName, status: 'booked', joinUrl: null });
        try {
          await vc.book(appointment, { signal: AbortSignal.timeout(10_000) });
        } catch (e) {
          visits.delete(appointmentId);
          throw e;
        }
        return send(res, 201, visits.get(appointmentId));
      }
      const arrive = /^\/visits\/([^/]+)\/check-in$/.exec(url.pathname);
      if (checkInRoute && req.method === 'POST' && arrive && visits.has(arrive[1])) {
        const c = await sandbox.checkIn(arrive[1]);
        return send(res, 202, { encounterId: c.encounterId });
      }
      const m = /^\/visits\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const v = visits.get(m[1]);
        return v ? send(res, 200, v) : send(res, 404, { error: 'no such visit' });
      }
      return send(res, 404, { error: 'not found' });
    } catch (e) {
      if (e instanceof HieVcError) return send(res, e.status && e.status < 500 ? 422 : 502, { error: e.code, message: e.message });
      if (e instanceof SyntaxError) return send(res, 400, { error: 'invalid JSON' });
      return send(res, 500, { error: 'internal error' });
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address();
  return {
    url: `http://${host}:${bound}`,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await listener.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sandbox = await Sandbox.start({ checkReferences: false });
  await sandbox.client().update({
    resourceType: 'Patient',
    id: 'pt-demo',
    identifier: [{ system: 'http://fhir.hie.moh.gov.my/sid/my-kad-no', value: '950728106051' }],
    name: [{ text: 'SYAZA NUR IZZATI' }],
  });
  const portal = await startPortal({ sandbox, port: Number(process.env.PORT ?? 3000), checkInRoute: true });
  console.log(`portal ${portal.url} on the sandbox ${sandbox.url}; patient id pt-demo`);
  console.log(`  curl -XPOST ${portal.url}/visits -d '{"patientId":"pt-demo","patientName":"SYAZA","start":"2030-07-10T21:00:00+08:00","end":"2030-07-10T22:00:00+08:00"}'`);
  console.log(`  curl -XPOST ${portal.url}/visits/<appointmentId>/check-in; curl ${portal.url}/visits/<appointmentId>`);
  const stop = async () => {
    await portal.close();
    await sandbox.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
