'use strict';
/**
 * `EncounterEvent`: one Encounter from the listener, with the record it came in, answered
 * once (by the listener after the handler, or explicitly with `ack()` / `fail()`).
 */
const { guard, HieVcError } = require('./errors');

/** Where the native batch and index of an event are kept. */
const BATCH = Symbol('hie-vc.batch');

function headerObject(list, bytes) {
  const out = {};
  for (const [name, span] of list) {
    if (name in out) continue; // the first value, as kafkajs shows one per name
    out[name] = span == null ? null : bytes.subarray(span[0], span[1]);
  }
  return out;
}

/** An Encounter event. */
class EncounterEvent {
  constructor(item, resources, bytes, batch, index, acks) {
    const m = item.meta;
    /** Its id. */
    this.encounterId = m.encounterId;
    /** Its version id. */
    this.versionId = m.versionId;
    /** The VC view (null for a non-VC Encounter). */
    this.vc = m.vc;
    /** What a lenient read had to let pass. */
    this.warnings = m.warnings;
    /** How the payload was laid out (`{ kind: 'encounter' | 'bundle' | 'envelope' }`). */
    this.layout = m.layout;
    /** The topic. */
    this.topic = m.topic;
    /** The partition. */
    this.partition = m.partition;
    /** The offset, a string (kafkajs' convention: offsets may pass 2^53). */
    this.offset = String(m.offset);
    /** The record key (null without one). */
    this.key = item.key == null ? null : bytes.subarray(item.key[0], item.key[1]);
    /** Milliseconds since the epoch as Kafka recorded them, a string (kafkajs' convention); null when unknown. */
    this.timestamp = m.timestampMs == null ? null : String(m.timestampMs);
    /** The record headers, name → value (the first of each name). */
    this.headers = headerObject(item.headers, bytes);
    /** The record's bytes as received. */
    this.raw = bytes.subarray(item.raw[0], item.raw[1]);
    Object.defineProperty(this, BATCH, { value: [batch, index, acks], enumerable: false });
    Object.defineProperty(this, '_answered', { value: false, enumerable: false, writable: true });
    // The Encounter and the included resources, decoded and validated in Rust, cross as JSON
    // text and become objects when first read (a handler that routes on `vc` alone never
    // pays for them).
    Object.defineProperty(this, '_src', { value: { resources, item, bytes }, enumerable: false });
  }

  /** The Encounter, a FHIR JSON object (as the model's writer gives it). */
  get encounter() {
    const v = JSON.parse(this._src.resources.slice(this._src.item.encounter[0], this._src.item.encounter[1]));
    Object.defineProperty(this, 'encounter', { value: v, enumerable: true });
    return v;
  }

  /** The resources that came with it (`[{ resource, ... }]`). */
  get included() {
    const v = JSON.parse(this._src.resources.slice(this._src.item.included[0], this._src.item.included[1]));
    Object.defineProperty(this, 'included', { value: v, enumerable: true });
    return v;
  }

  /** Whether it was answered already. */
  get answered() {
    return this._answered;
  }

  /** Marks it answered (throws when it was already). */
  _take() {
    if (this._answered) throw new HieVcError({ kind: 'invalid_input', message: 'this event was already answered' });
    this._answered = true;
  }

  /**
   * Its effects are durable: its offset may be stored. The acknowledgements of a batch reach
   * the core together, when the listener next hands out an event, waits for records or closes.
   */
  ack() {
    this._take();
    this[BATCH][2].push(this[BATCH][1]);
  }

  /**
   * Handling failed: retried per the listener's retry policy, then dead-lettered (or
   * reported); `permanent` (or an error whose `retriable` is false, kafkajs' convention)
   * skips the retries.
   * @param {unknown} error
   * @param {{ permanent?: boolean }} [options]
   */
  fail(error, options = {}) {
    this._take();
    const [batch, index] = this[BATCH];
    const message = error instanceof Error ? error.message : String(error);
    const permanent = options.permanent ?? (error != null && typeof error === 'object' && error.retriable === false);
    guard(() => batch.fail(index, message, permanent));
  }

  /** The core's event JSON (what every binding hands out as data). */
  toJSON() {
    const { item, bytes } = this._src;
    const text = (span) => (span == null ? null : bytes.toString('utf8', span[0], span[1]));
    return {
      encounter: this.encounter,
      encounterId: this.encounterId,
      versionId: this.versionId,
      vc: this.vc,
      included: this.included,
      warnings: this.warnings,
      layout: this.layout,
      topic: this.topic,
      partition: this.partition,
      offset: Number(this.offset),
      key: text(item.key),
      timestampMs: this.timestamp == null ? null : Number(this.timestamp),
      headers: item.headers.map(([key, span]) => ({ key, value: text(span) })),
    };
  }
}

/**
 * The events of a native batch, and the list their acknowledgements gather in (sent with
 * {@link flushAcks}).
 */
function eventsOf(batch) {
  const { events } = JSON.parse(batch.takeJson());
  const resources = batch.takeResources();
  const bytes = batch.takeBytes();
  const acks = [];
  return { acks, events: events.map((item, i) => new EncounterEvent(item, resources, bytes, batch, i, acks)) };
}

/** Sends a batch's gathered acknowledgements to the core. */
function flushAcks(batch, acks) {
  if (acks.length === 0) return;
  const list = acks.splice(0, acks.length);
  batch.ackMany(list);
}

module.exports = { EncounterEvent, eventsOf, flushAcks, BATCH };
