// The tests' type usage, checked by `tsc --strict --noEmit` (bindings-node/tsconfig.json):
// what the tests do with the package, written with the package's types, and mistakes the
// types must refuse (`@ts-expect-error`). Not run: the node:test files run the behaviour.
import { fhir, mycore, HieClient, HieVcError, Sandbox, Listener, MemoryBroker, VirtualConsultation, Jitsi, Notifier } from 'hie-vc';
import type { Encounter, Appointment, EncounterEvent, Started, SearchPage, Patient } from 'hie-vc';

export async function usage(): Promise<void> {
  const read = fhir.read<Patient>('{"resourceType":"Patient","id":"p"}', { lenient: true });
  const family: string | undefined = read.resource.name?.[0]?.family;
  const warningPlace: string | undefined = read.warnings[0]?.location;
  const text: string = fhir.write(read.resource);

  const appt: Appointment = mycore.vciAppointment({ id: 'a1', specialty: '86', patient: { id: 'p1', display: 'Siti' }, slot: 's1', start: '2030-01-01T09:00:00+08:00', end: '2030-01-01T09:30:00+08:00' });
  const report = mycore.validate(appt, { acceptPublishedQuirks: true });
  const ok: boolean = report.valid;
  const rule: string | undefined = report.issues[0]?.rule;
  const oo = report.toOperationOutcome();
  const severity: string = oo.issue[0].severity;

  const sb = await Sandbox.start({ payload: 'bundle', checkReferences: false });
  const client: HieClient = sb.client({ hie: { max_retries: 0 } });
  const ac = new AbortController();
  try {
    const got = await client.read<Patient>('Patient', 'p1', { signal: ac.signal, timeoutMs: 500 });
    const etag: string | null = got.etag;
    console.log(etag, got.resource.id);
  } catch (e) {
    if (e instanceof HieVcError) {
      const code: string = e.code;
      const status: number | null = e.status;
      const steps: string[] = e.completedSteps;
      console.log(code, status, steps, e.outcome?.issue.length, e.report?.valid);
    }
  }
  for await (const page of client.search<Encounter>('Encounter', { status: 'in-progress', _count: 10 })) {
    const p: SearchPage<Encounter> = page;
    for (const e of p.matches) console.log(e.status, e.class.code);
  }
  for await (const page of client.history({ resourceType: 'Patient', id: 'p1' })) console.log(page.entries.length);

  const vc = VirtualConsultation.forSandbox(sb);
  const booked = await vc.book(appt, { slotId: 's1' });
  const checkIn = await sb.checkIn(booked.appointmentId);
  const started: Started = await vc.start(checkIn.encounter, { role: 'practitioner', id: 'prac-1', name: 'DR AMINAH' });
  const url: string = started.practitionerJoin.url;

  const listener = new Listener({ source: sb, groupId: 'portal', deadLetterTopic: 'dlq', retry: { maxRetries: 2 } });
  listener.on('error', (err) => console.log(err.failure?.disposition, err.code));
  await listener.run({
    eachEncounter: vc.arrivalHandler({ practitioner: (v) => (v.type === 'VCI' ? { role: 'practitioner', id: 'prac-1', name: 'DR AMINAH' } : null) }),
  });
  await listener.close();
  const kafka = new Listener({ brokers: ['127.0.0.1:9092'], topics: ['vc-encounters'], groupId: 'g', filter: 'vcOnly' });
  for await (const event of kafka) {
    const ev: EncounterEvent = event;
    const key: Buffer | null = ev.key;
    const offset: string = ev.offset;
    const token: string | null | undefined = ev.vc?.token;
    console.log(key, offset, token, ev.headers['x'], ev.raw.length, ev.toJSON().timestampMs);
    break;
  }
  const broker = new MemoryBroker();
  broker.send('t', { value: { resourceType: 'Encounter' }, key: 'k', headers: { h: 'v' } });
  const jitsi = Jitsi.forSandbox(sb);
  const session = await jitsi.createSession();
  const join = await jitsi.join(session.token, { role: 'patient', id: 'p1', name: 'Siti' });
  const n = Notifier.forSandbox(sb);
  const sent = await n.send('t', 'b', ['950728106051']);
  await sb.close();
  console.log(family, warningPlace, text, ok, rule, severity, url, join.url, sent.status);

  // @ts-expect-error: an Appointment builder needs an id
  mycore.vciAppointment({ specialty: '86' });
  // @ts-expect-error: the signal is an AbortSignal
  await client.read('Patient', 'p1', { signal: 5 });
  // @ts-expect-error: offsets are strings (kafkajs' convention)
  const wrong: number = ({} as EncounterEvent).offset;
  console.log(wrong);
}
