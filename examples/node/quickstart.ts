// A TypeScript quick start of the `hie-vc` package: book a VCI consultation on the embedded
// sandbox, listen for its Encounter, start the session when the patient checks in.
//
//   npx tsx examples/node/quickstart.ts     (or compile with tsc; type-checked by the tests)
import { Listener, Sandbox, VirtualConsultation, mycore, HieVcError } from 'hie-vc';
import type { Started } from 'hie-vc';

async function main(): Promise<void> {
  const sandbox = await Sandbox.start({ checkReferences: false });
  try {
    const vc = VirtualConsultation.forSandbox(sandbox);
    const appointment = mycore.vciAppointment({
      id: 'vci-app-quickstart',
      specialty: '86',
      patient: { id: 'patient-1', display: 'SITI' },
      start: '2030-01-01T09:00:00+08:00',
      end: '2030-01-01T09:30:00+08:00',
    });
    const report = mycore.validate(appointment);
    if (!report.valid) throw new Error(report.summary);
    const booked = await vc.book(appointment);

    const started = new Promise<Started>((resolve) => {
      const listener = new Listener({ source: sandbox, groupId: 'quickstart' });
      listener.on('error', (err: HieVcError) => console.error('failed for good:', err.code, err.failure?.reason));
      void listener.run({
        eachEncounter: vc.arrivalHandler({
          practitioner: { role: 'practitioner', id: 'prac-1', name: 'DR AMINAH' },
          onStarted: (s) => {
            resolve(s);
            void listener.close();
          },
        }),
      });
    });
    await sandbox.checkIn(booked.appointmentId);
    const s = await started;
    console.log(`session ${s.encounter.token ?? '?'} started; notified ${s.notified.length} patient(s)`);
  } finally {
    await sandbox.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
