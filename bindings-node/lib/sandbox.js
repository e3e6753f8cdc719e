'use strict';
/**
 * `Sandbox`: the embedded HIE emulator (FHIR API, Jitsi token service, Notification API,
 * Encounter publishing on check-in) running in this process; and `MemoryBroker`, the
 * in-process broker that stands in for Kafka (a sandbox's event source).
 */
const native = require('./native');
const { guard, convert } = require('./errors');
const { call } = require('./call');
const { HieClient } = require('./client');

function snake(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  }
  return out;
}

function bytes(v) {
  if (v == null) return undefined;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.from(JSON.stringify(v), 'utf8');
}

/** An in-process Kafka stand-in: topics of records with keys and headers, consumer groups. */
class MemoryBroker {
  constructor(nativeBroker) {
    this._native = nativeBroker ?? new native.NativeMemoryBroker();
  }

  /**
   * Appends a record, kafkajs' message shape: `{ value, key?, headers? }` (`value` null: a
   * tombstone; an object value is written as JSON). Returns `{ topic, partition, offset }`.
   */
  send(topic, message) {
    const headers = message.headers ? (Array.isArray(message.headers) ? message.headers : Object.entries(message.headers)).map(([k, v]) => [k, bytes(v)]) : undefined;
    return JSON.parse(guard(() => this._native.send(topic, bytes(message.value), bytes(message.key), headers)));
  }

  /** The records of a topic: `[{ key, value, headers: [[name, value]], partition, offset }]` (bytes as UTF-8 text). */
  records(topic) {
    return JSON.parse(guard(() => this._native.records(topic)));
  }
}

/** A running sandbox. */
class Sandbox {
  constructor(nativeSandbox) {
    this._native = nativeSandbox;
  }

  /**
   * Starts a sandbox on a free loopback port.
   * @param {{ kafkaBootstrap?: string, kafkaProperties?: Record<string, string>, topic?: string,
   *   payload?: 'encounter' | 'bundle', validate?: boolean, checkReferences?: boolean,
   *   allowDelete?: boolean, requireProfileClaim?: boolean, notifyEmail?: string,
   *   notifyPassword?: string, jitsiDomain?: string, signal?: AbortSignal }} [options]
   */
  static async start(options = {}) {
    const { signal, ...rest } = options;
    return new Sandbox(await call(signal, (c) => native.NativeSandbox.start(JSON.stringify(snake(rest)), c)));
  }

  /** Its base URL. */
  get url() {
    return this._native.url;
  }

  /** Its FHIR API's base URL. */
  get fhirBase() {
    return this._native.fhirBase;
  }

  /** The topic check-ins publish to. */
  get topic() {
    return guard(() => this._native.topic);
  }

  /**
   * An HIE client of this sandbox.
   * @param {object} [settings] settings on top of the sandbox's (`{ hie: { max_retries: 0 } }`)
   */
  client(settings) {
    return HieClient._wrap(guard(() => this._native.client(settings ? JSON.stringify(settings) : undefined)));
  }

  /** The in-process broker check-ins publish to (null when the sandbox publishes to Kafka): a listener's `source`. */
  get eventSource() {
    const b = guard(() => this._native.broker());
    return b == null ? null : new MemoryBroker(b);
  }

  /**
   * Checks a patient in for an Appointment, as RekodSaya does: HIE creates the Encounter and
   * publishes it. `{ encounter, encounterId, created, vcType, token, delivery }`.
   */
  async checkIn(appointmentId, options = {}) {
    return JSON.parse(await call(options.signal, (c) => this._native.checkIn(appointmentId, options.patientId, c)));
  }

  /** Sets one service's fault switches (`'fhir' | 'jitsi' | 'notify'`; `{ latency_ms, unavailable, rate_limited, fail_next, fail_status, retry_after_secs, down }`). */
  setFaults(service, faults) {
    guard(() => this._native.setFaults(service, JSON.stringify(faults)));
  }

  /** Clears every fault switch. */
  clearFaults() {
    guard(() => this._native.clearFaults());
  }

  /** Each service's counters: `{ fhir: { requests, failed, dropped }, jitsi, notify }`. */
  stats() {
    return JSON.parse(guard(() => this._native.stats()));
  }

  /** A stored resource (null when none). */
  resource(resourceType, id) {
    const t = guard(() => this._native.resource(resourceType, id));
    return t == null ? null : JSON.parse(t);
  }

  /** The notifications the Notification API received. */
  notifications() {
    return JSON.parse(guard(() => this._native.notifications()));
  }

  /** The Jitsi sessions the token service holds. */
  jitsiSessions() {
    return JSON.parse(guard(() => this._native.jitsiSessions()));
  }

  /** Stops the sandbox (idempotent). */
  async close() {
    try {
      await this._native.close();
    } catch (e) {
      throw convert(e);
    }
  }

  /** `await using sb = await Sandbox.start()` closes it. */
  async [Symbol.asyncDispose]() {
    await this.close();
  }
}

module.exports = { Sandbox, MemoryBroker };
