'use strict';
/**
 * `VirtualConsultation` (schedule, book, start, finish, `arrivalHandler`), `Jitsi` (the
 * provider the `[jitsi]` settings name) and `Notifier` (the Notification API client).
 * Every call takes `{ signal }`.
 */
const native = require('./native');
const { guard } = require('./errors');
const { call, resourceText, parse } = require('./call');
const { BATCH } = require('./event');

const NATIVE = Symbol('hie-vc.native');

function settingsArgs(o) {
  return [o.settings ? JSON.stringify(o.settings) : undefined, o.path, o.env ?? false];
}

/** The VC workflow on the HIE client, a Jitsi provider and the Notification API client. */
class VirtualConsultation {
  /**
   * @param {{ settings?: object, path?: string, env?: boolean, patientIdSystems?: string[] }} [options]
   *   `settings`: sections as the CLI's TOML (`{ hie: { url }, jitsi: {...}, notify: {...}, vc: {...} }`);
   *   `path` / `env`: read that TOML file / the `HIE_VC_*` environment too.
   */
  constructor(options = {}) {
    this._native = options[NATIVE] ?? guard(() => new native.NativeVc(...settingsArgs(options), options.patientIdSystems));
  }

  /** The workflow as the CLI's settings say (TOML file, `HIE_VC_*` environment). */
  static fromSettings(options = {}) {
    return new VirtualConsultation({ ...options, env: options.env ?? true });
  }

  /**
   * The workflow on a sandbox's services.
   * @param {import('./sandbox').Sandbox} sandbox
   * @param {object} [settings] settings on top of the sandbox's (`{ vc: {...} }`)
   */
  static forSandbox(sandbox, settings) {
    return new VirtualConsultation({ [NATIVE]: guard(() => native.NativeVc.forSandbox(sandbox._native, settings ? JSON.stringify(settings) : undefined)) });
  }

  /** VCE step 1: the Jitsi session whose token ties the group together (`{ token, room }`). */
  async createSession(options = {}) {
    return parse(await call(options.signal, (c) => this._native.createSession(c)));
  }

  /** PUTs a Schedule and its Slots in one transaction (`{ outcome }`). */
  async schedule(schedule, slots, options = {}) {
    const s = resourceText(schedule);
    const list = slots.map(resourceText);
    return parse(await call(options.signal, (c) => this._native.schedule(s, list, c)));
  }

  /**
   * Books an Appointment (into `slotId`, its availability decremented, when given):
   * `{ appointmentId, slot, outcome }`.
   */
  async book(appointment, options = {}) {
    const a = resourceText(appointment);
    return parse(await call(options.signal, (c) => this._native.book(a, options.slotId, c)));
  }

  /**
   * Starts an arrived session: the practitioner's join, the session activated, the
   * patient(s) notified. Idempotent.
   * @param {object} encounter
   * @param {{ role: string, id: string, name?: string }} practitioner
   * @param {{ included?: object[], signal?: AbortSignal }} [options]
   */
  async start(encounter, practitioner, options = {}) {
    const e = resourceText(encounter);
    const inc = (options.included ?? []).map(resourceText);
    return parse(await call(options.signal, (c) => this._native.start(e, JSON.stringify(practitioner), inc, c)));
  }

  /** Finishes: the Encounter `finished`, the Jitsi session ended. Idempotent. */
  async finish(encounterId, options = {}) {
    return parse(await call(options.signal, (c) => this._native.finish(encounterId, c)));
  }

  /**
   * An `eachEncounter` handler that starts each arriving session (the core's arrival
   * handler) and answers the event itself: a failure that may pass is retried by the
   * listener, others dead-lettered.
   * @param {{ practitioner: object | ((vc: object, event: object) => object | null | Promise<object | null>), onStarted?: (started: object, event: object) => void }} options
   * @returns {(event: import('./event').EncounterEvent) => Promise<object | null>}
   */
  arrivalHandler(options) {
    const { practitioner, onStarted } = options;
    return async (event) => {
      const p = typeof practitioner === 'function' ? await practitioner(event.vc, event) : practitioner;
      const [batch, index] = event[BATCH];
      event._take(); // the core's handler answers it
      const started = parse(await call(undefined, () => this._native.handleArrival(batch, index, p == null ? undefined : JSON.stringify(p))));
      if (started && onStarted) onStarted(started, event);
      return started;
    };
  }
}

/** A Jitsi provider: HIE's token service, self-hosted Jitsi Meet or 8x8 JaaS. */
class Jitsi {
  /** @param {{ settings?: object, path?: string, env?: boolean }} [options] */
  constructor(options = {}) {
    this._native = options[NATIVE] ?? guard(() => new native.NativeJitsi(...settingsArgs(options)));
  }
  /** The provider of a sandbox's Jitsi token service. */
  static forSandbox(sandbox) {
    return new Jitsi({ [NATIVE]: guard(() => native.NativeJitsi.forSandbox(sandbox._native)) });
  }
  /** `hie-rest`, `self-hosted` or `jaas`. */
  get kind() {
    return this._native.kind;
  }
  /** A new session: `{ token, room }`. */
  async createSession(options = {}) {
    return parse(await call(options.signal, (c) => this._native.createSession(c)));
  }
  /** A participant's join (`{ role, id, name }`): `{ url, jwt?, ... }` (a credential). */
  async join(sessionToken, participant, options = {}) {
    return parse(await call(options.signal, (c) => this._native.join(sessionToken, JSON.stringify(participant), c)));
  }
  /** Marks the session active (patients may join). */
  async activate(sessionToken, options = {}) {
    await call(options.signal, (c) => this._native.activate(sessionToken, c));
  }
  /** Ends the session: `'ended'`, `'not_running'` or `'unsupported'`. */
  async end(sessionToken, options = {}) {
    return call(options.signal, (c) => this._native.end(sessionToken, c));
  }
}

/** The Notification API client. */
class Notifier {
  /** @param {{ settings?: object, path?: string, env?: boolean }} [options] */
  constructor(options = {}) {
    this._native = options[NATIVE] ?? guard(() => new native.NativeNotifier(...settingsArgs(options)));
  }
  /** The client of a sandbox's Notification API. */
  static forSandbox(sandbox) {
    return new Notifier({ [NATIVE]: guard(() => native.NativeNotifier.forSandbox(sandbox._native)) });
  }
  /** Logs in (done on first send otherwise). */
  async login(options = {}) {
    await call(options.signal, (c) => this._native.login(c));
  }
  /** Sends `title` / `body` to the patients (MyKad or other ids). */
  async send(title, body, patientIds, options = {}) {
    return parse(await call(options.signal, (c) => this._native.send(title, body, patientIds, c)));
  }
}

module.exports = { VirtualConsultation, Jitsi, Notifier };
