'use strict';
/**
 * `HieClient`: every FHIR interaction of the Rust HIE client as Promises; search and
 * history as async iterators over their pages. Each call takes `{ signal }` (an AbortSignal:
 * the request stops at once) and the per-request options `timeoutMs`, `requestId`,
 * `headers`, `maxRetries`.
 */
const native = require('./native');
const { guard } = require('./errors');
const { call, resourceText, parse } = require('./call');

const NATIVE = Symbol('hie-vc.native');

/** The `[hie]` settings section (the CLI's names) for the constructor's options. */
function hieSection(o) {
  const s = {};
  if (o.url != null) s.url = String(o.url);
  const auth = o.auth;
  if (auth) {
    if (auth.bearer != null) s.bearer_token = auth.bearer;
    if (auth.basic) {
      s.basic_username = auth.basic.username;
      s.basic_password = auth.basic.password;
    }
    if (auth.oauth) {
      s.oauth_token_url = auth.oauth.tokenUrl;
      s.oauth_client_id = auth.oauth.clientId;
      s.oauth_client_secret = auth.oauth.clientSecret;
      if (auth.oauth.scope != null) s.oauth_scope = auth.oauth.scope;
    }
  }
  if (o.retry) {
    if (o.retry.maxRetries != null) s.max_retries = o.retry.maxRetries;
    if (o.retry.initialBackoffMs != null) s.retry_initial_backoff_ms = o.retry.initialBackoffMs;
    if (o.retry.maxElapsedMs != null) s.retry_max_elapsed_secs = Math.ceil(o.retry.maxElapsedMs / 1000);
  }
  if (o.timeoutMs != null) s.timeout_secs = Math.max(1, Math.ceil(o.timeoutMs / 1000));
  if (o.connectTimeoutMs != null) s.connect_timeout_secs = Math.max(1, Math.ceil(o.connectTimeoutMs / 1000));
  if (o.validate != null) s.validate = Boolean(o.validate);
  if (o.profileBase != null) s.profile_base = o.profileBase;
  if (o.userAgent != null) s.user_agent = o.userAgent;
  if (o.headers) s.headers = Object.entries(o.headers).map(([k, v]) => `${k}: ${v}`);
  return s;
}

/** The per-request options JSON (unset ones keep the client's defaults). */
function requestJson(defaults, o) {
  const r = {};
  const timeoutMs = o.timeoutMs ?? defaults.timeoutMs;
  if (timeoutMs != null) r.timeout_ms = timeoutMs;
  if (o.requestId != null) r.request_id = o.requestId;
  if (o.headers) r.headers = o.headers;
  if (o.maxRetries != null) r.max_retries = o.maxRetries;
  return Object.keys(r).length ? JSON.stringify(r) : undefined;
}

/** Search parameters as `[name, value]` pairs, from an object, pairs or URLSearchParams. */
function pairs(params) {
  if (params == null) return [];
  if (params instanceof URLSearchParams || Array.isArray(params)) return [...params].map(([k, v]) => [String(k), String(v)]);
  const out = [];
  for (const [k, v] of Object.entries(params)) {
    if (v == null) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, String(one)]);
  }
  return out;
}

/**
 * The pages of a search or history, fetched one by one as iterated
 * (`for await (const page of client.search(...))`).
 */
class Pages {
  constructor(nativePages, signal, kind) {
    this._pages = nativePages;
    this._signal = signal;
    this._kind = kind;
  }

  /** The next page, or null after the last. */
  async next() {
    return parse(await call(this._signal, (id) => this._pages.next(id)));
  }

  async *[Symbol.asyncIterator]() {
    for (let p = await this.next(); p != null; p = await this.next()) yield p;
  }

  /** Every matching resource (search) or entry (history), across pages. */
  async *resources() {
    for await (const page of this) {
      if (this._kind === 'search') yield* page.matches;
      else for (const e of page.entries) if (e.resource != null) yield e.resource;
    }
  }
}

/** The HIE FHIR client. */
class HieClient {
  /**
   * @param {object} options `{ url, auth?: { bearer } | { basic: { username, password } } |
   *   { oauth: { tokenUrl, clientId, clientSecret, scope? } }, timeoutMs?, retry?: {
   *   maxRetries?, initialBackoffMs?, maxElapsedMs? }, validate?, profileBase?, userAgent?,
   *   headers? }`
   */
  constructor(options = {}) {
    this._native = options[NATIVE] ?? guard(() => new native.NativeClient(JSON.stringify({ hie: hieSection(options) })));
    this._defaults = { timeoutMs: options.timeoutMs };
  }

  /**
   * A client from the settings the CLI reads: the TOML file (`path`, or `HIE_VC_CONFIG`) and
   * the `HIE_VC_HIE_*` environment variables.
   * @param {{ path?: string, env?: boolean }} [options]
   */
  static fromSettings(options = {}) {
    const n = guard(() => new native.NativeClient(undefined, options.path, options.env ?? true));
    return new HieClient({ [NATIVE]: n });
  }

  /** @internal wraps a native client */
  static _wrap(n) {
    return new HieClient({ [NATIVE]: n });
  }

  /** The server's base URL. */
  get baseUrl() {
    return this._native.baseUrl;
  }

  /**
   * Reads a resource: `{ resource, etag, versionId, lastModified, warnings, requestId }`.
   * @param {string} resourceType
   * @param {string} id
   * @param {object} [options] `{ signal, timeoutMs, requestId, headers, maxRetries }`
   */
  async read(resourceType, id, options = {}) {
    return parse(await call(options.signal, (c) => this._native.read(resourceType, id, undefined, requestJson(this._defaults, options), c)));
  }

  /** Reads one version of a resource (as {@link read}). */
  async vread(resourceType, id, versionId, options = {}) {
    return parse(await call(options.signal, (c) => this._native.read(resourceType, id, String(versionId), requestJson(this._defaults, options), c)));
  }

  /**
   * Creates a resource (POST): `{ status, kind, id, versionId, location, etag, resource, ... }`.
   * @param {object} resource
   * @param {object} [options] `{ prefer?: 'minimal' | 'representation' | 'OperationOutcome', validate?, ifNoneExist?, signal, ... }`
   */
  async create(resource, options = {}) {
    const text = resourceText(resource);
    return parse(await call(options.signal, (c) => this._native.create(text, options.prefer, options.validate, options.ifNoneExist, requestJson(this._defaults, options), c)));
  }

  /**
   * Updates (PUTs, or creates with its id) a resource.
   * @param {object} resource
   * @param {object} [options] `{ ifMatch?: versionId | true (the resource's own), prefer?, validate?, signal, ... }`
   */
  async update(resource, options = {}) {
    const text = resourceText(resource);
    const ifMatch = options.ifMatch === true ? undefined : options.ifMatch == null ? undefined : String(options.ifMatch);
    return parse(await call(options.signal, (c) => this._native.update(text, ifMatch, options.ifMatch === true, options.prefer, options.validate, requestJson(this._defaults, options), c)));
  }

  /** Deletes a resource: `{ status, outcome, requestId }`. */
  async delete(resourceType, id, options = {}) {
    return parse(await call(options.signal, (c) => this._native.delete(resourceType, id, requestJson(this._defaults, options), c)));
  }

  /**
   * Searches: an async iterator over every page (`{ matches, included, total, next, ... }`).
   * @param {string} resourceType
   * @param {Record<string, string | number | Array<string | number>> | Array<[string, string]> | URLSearchParams} [params]
   * @param {object} [options] `{ viaPost?, maxResults?, maxPages?, signal, ... }`
   * @returns {Pages}
   */
  search(resourceType, params, options = {}) {
    const n = guard(() => this._native.search(resourceType, pairs(params), options.viaPost, options.maxResults, options.maxPages, requestJson(this._defaults, options)));
    return new Pages(n, options.signal, 'search');
  }

  /**
   * History: of an instance (`resourceType` and `id`), a type (`resourceType`) or the server
   * (neither); an async iterator over its pages.
   * @param {{ resourceType?: string, id?: string, count?: number, since?: string, at?: string, maxEntries?: number, signal?: AbortSignal }} [options]
   * @returns {Pages}
   */
  history(options = {}) {
    const n = guard(() => this._native.history(options.resourceType, options.id, options.count, options.since, options.at, options.maxEntries, requestJson(this._defaults, options)));
    return new Pages(n, options.signal, 'history');
  }

  /** Sends a batch Bundle: `{ bundle, entries: [...] }` (each entry's own outcome). */
  async batch(bundle, options = {}) {
    const text = resourceText(bundle);
    return parse(await call(options.signal, (c) => this._native.bundle(text, false, options.prefer, options.validate, requestJson(this._defaults, options), c)));
  }

  /** Sends a transaction Bundle (all or nothing). */
  async transaction(bundle, options = {}) {
    const text = resourceText(bundle);
    return parse(await call(options.signal, (c) => this._native.bundle(text, true, options.prefer, options.validate, requestJson(this._defaults, options), c)));
  }

  /** The server's CapabilityStatement, summarised. */
  async capabilities(options = {}) {
    return parse(await call(options.signal, (c) => this._native.capabilities(requestJson(this._defaults, options), c)));
  }

  /** The Encounter HIE created for an Appointment (null when none yet). */
  async findEncounterForAppointment(appointmentId, options = {}) {
    return parse(await call(options.signal, (c) => this._native.findEncounterForAppointment(appointmentId, c)));
  }

  /** Every Encounter of a VC session token. */
  async findEncountersByVcToken(token, options = {}) {
    return parse(await call(options.signal, (c) => this._native.findEncountersByVcToken(token, c)));
  }
}

module.exports = { HieClient, Pages, NATIVE };
