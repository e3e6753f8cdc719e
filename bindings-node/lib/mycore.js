'use strict';
/**
 * `mycore`: MY Core validation, builders (option objects, as the core's spec structs read
 * them) and the VC view of an Encounter.
 */
const native = require('./native');
const { guard, setReport } = require('./errors');
const { input } = require('./fhir');
const { resourceText } = require('./call');

/** The findings of a MY Core validation. */
class ValidationReport {
  /**
   * @param {object} json the core's report JSON
   * @param {object | null} outcome its OperationOutcome
   */
  constructor(json, outcome) {
    /** No error (warnings allowed). */
    this.valid = Boolean(json.valid);
    /** The number of errors. */
    this.errors = json.errors;
    /** The number of warnings. */
    this.warnings = json.warnings;
    /** One line saying what is wrong (or that nothing is). */
    this.summary = json.summary;
    /** Every finding, in document order: `{ severity, code, rule, location, message }`. */
    this.issues = json.issues;
    Object.defineProperty(this, '_outcome', { value: outcome, enumerable: false });
  }

  /** The report as a FHIR OperationOutcome (what HIE would answer). */
  toOperationOutcome() {
    return this._outcome == null ? null : structuredClone(this._outcome);
  }

  /** The core's report JSON. */
  toJSON() {
    return { valid: this.valid, errors: this.errors, warnings: this.warnings, summary: this.summary, issues: this.issues };
  }
}
setReport(ValidationReport);

/**
 * Validates a resource against MY Core.
 * @param {object | string | Buffer} resource
 * @param {{ acceptPublishedQuirks?: boolean, profileBase?: string, requireProfileClaim?: boolean, lenient?: boolean, denyUnknown?: boolean }} [options]
 * @returns {ValidationReport}
 * @throws {import('./errors').HieVcError} `HIEVC_DECODE` when the resource does not read
 */
function validate(resource, options = {}) {
  const out = JSON.parse(guard(() => native.mycoreValidate(input(resource), JSON.stringify(options))));
  return new ValidationReport(out.report, out.operationOutcome);
}

/**
 * The VC view of an Encounter (`{ id, versionId, type, token, encounterNumber, status,
 * patient, practitioners, organisation, appointments, period }`).
 * @param {object | string | Buffer} encounter
 * @param {{ lenient?: boolean, denyUnknown?: boolean }} [options]
 * @throws {import('./errors').HieVcError} `HIEVC_INVALID_INPUT` for a non-VC Encounter
 */
function vcView(encounter, options = {}) {
  return JSON.parse(guard(() => native.mycoreVcView(input(encounter), Boolean(options.lenient), Boolean(options.denyUnknown))));
}

function build(kind, spec) {
  return JSON.parse(guard(() => native.mycoreBuild(kind, JSON.stringify(spec))));
}

/**
 * A MY Core Appointment: VCI by default, VCE when `token` is given.
 * @param {object} spec `{ id, vcType?, token?, status?, specialty?, appointmentType?, healthcareService?, patient?, practitioner?, slot?, start?, end?, created?, description?, profileBase? }`
 */
function appointment(spec) {
  return build('appointment', spec);
}

/**
 * A VC-Internal (VCI) Appointment.
 * @param {object} spec as {@link appointment}, without `vcType`
 */
function vciAppointment(spec) {
  return build('appointment', { ...spec, vcType: 'VCI' });
}

/**
 * A VC-External (VCE) Appointment (`token`: the Jitsi session token).
 * @param {object} spec as {@link appointment}, without `vcType`
 */
function vceAppointment(spec) {
  return build('appointment', { ...spec, vcType: 'VCE' });
}

/**
 * A MY Core Schedule.
 * @param {object} spec `{ id, vcType?, token?, scheduleType?, specialty?, healthcareService?, practitioner?, start?, end?, comment?, profileBase? }`
 */
function schedule(spec) {
  return build('schedule', spec);
}

/**
 * A MY Core Slot.
 * @param {object} spec `{ id, vcType?, schedule?, token?, quota?, available?, quotaWire?, specialty?, appointmentType?, status?, start?, end?, comment? }`
 */
function slot(spec) {
  return build('slot', spec);
}

/**
 * The transaction Bundle that PUTs a Schedule and its Slots.
 * @param {object} schedule
 * @param {object[]} slots
 * @param {{ fullUrlBase?: string }} [options]
 */
function schedulingBundle(schedule, slots, options = {}) {
  return JSON.parse(guard(() => native.mycoreSchedulingBundle(resourceText(schedule), slots.map(resourceText), options.fullUrlBase)));
}

/**
 * The transaction Bundle that books an Appointment into a Slot (its availability
 * decremented).
 * @param {object} appointment
 * @param {object} slot
 * @param {{ quotaWire?: 'integer' | 'decimal', fullUrlBase?: string }} [options]
 */
function bookingBundle(appointment, slot, options = {}) {
  return JSON.parse(guard(() => native.mycoreBookingBundle(resourceText(appointment), resourceText(slot), options.quotaWire, options.fullUrlBase)));
}

/**
 * The Encounter finished at `end` (status history kept).
 * @param {object} encounter
 * @param {string} end a FHIR dateTime
 */
function finishEncounter(encounter, end) {
  return JSON.parse(guard(() => native.mycoreFinishEncounter(resourceText(encounter), end)));
}

module.exports = {
  ValidationReport,
  validate,
  vcView,
  appointment,
  vciAppointment,
  vceAppointment,
  schedule,
  slot,
  schedulingBundle,
  bookingBundle,
  finishEncounter,
};
