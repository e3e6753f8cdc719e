'use strict';
/**
 * hie-vc: MY Core FHIR, the HIE client, the VC workflow and the Kafka Encounter listener,
 * on the hie-vc Rust core.
 */
const native = require('./native');
const errors = require('./errors');
const fhir = require('./fhir');
const mycore = require('./mycore');
const { HieClient, Pages } = require('./client');
const { Sandbox, MemoryBroker } = require('./sandbox');
const { Listener } = require('./listener');
const { EncounterEvent } = require('./event');
const { VirtualConsultation, Jitsi, Notifier } = require('./vc');

/** The package's version. */
const version = native.version();

/**
 * Runs the VC demo (the CLI's `hie-vc demo`) on an embedded sandbox, printing its timeline.
 * @param {{ kafka?: string, arrivalTimeoutMs?: number }} [options]
 */
async function demo(options = {}) {
  try {
    await native.demo(options.kafka, options.arrivalTimeoutMs);
  } catch (e) {
    throw errors.convert(e);
  }
}

module.exports = {
  version,
  HieVcError: errors.HieVcError,
  fhir: { read: fhir.read, write: fhir.write },
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
};
