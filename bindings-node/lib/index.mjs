// The ES module entry point: the same objects as the CommonJS one (one addon instance).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('./index.js');

export const {
  version,
  HieVcError,
  fhir,
  mycore,
  HieClient,
  Pages,
  Sandbox,
  MemoryBroker,
  Listener,
  EncounterEvent,
  VirtualConsultation,
  Jitsi,
  Notifier,
  demo,
} = pkg;
export default pkg;
