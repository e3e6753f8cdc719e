'use strict';
/**
 * `Listener`: the Kafka Encounter listener, kafkajs-style.
 *
 *     const listener = new Listener({ brokers, topics, groupId, deadLetterTopic });
 *     listener.on('error', (err) => log(err));          // records that failed for good
 *     await listener.run({ eachEncounter: async (event) => { ... } });
 *     ...
 *     await listener.close();
 *
 * or the pull form, `for await (const event of listener) { ... }`.
 *
 * Records are read, decoded and validated by the Rust core on its own threads; events
 * reach JavaScript in batches. An event's offset is stored only after its handler's promise
 * resolved (or the loop body finished); a rejection goes through the retry policy, then the
 * dead-letter topic (with `hievc.dlq.*` headers) and the `'error'` event; a poison record
 * never blocks its partition. Nothing keeps the process alive once the listener is closed.
 */
const { EventEmitter } = require('node:events');
const { AsyncLocalStorage } = require('node:async_hooks');
const native = require('./native');
const { HieVcError, convert, guard } = require('./errors');
const { eventsOf, flushAcks } = require('./event');

/** Set while an `eachEncounter` call runs: a `close()` from inside it must not wait for it. */
const inHandler = new AsyncLocalStorage();

/** How long one native wait lasts before the loop looks at its state again. */
const WAIT_MS = 1000;

/**
 * The longest stretch of events handed out without giving the event loop a turn: an async
 * handler that resolves at once would otherwise run a whole batch in one macrotask (its
 * awaits are microtasks), and timers and I/O would wait for the batch.
 */
const YIELD_MS = 5;
const yieldTurn = () => new Promise((resolve) => setImmediate(resolve));

function kafkaSection(o) {
  const k = {};
  if (o.brokers != null) k.bootstrap = Array.isArray(o.brokers) ? o.brokers.join(',') : String(o.brokers);
  if (o.topics != null) k.topics = Array.isArray(o.topics) ? o.topics : [o.topics];
  if (o.groupId != null) k.group = o.groupId;
  const s = o.security;
  if (s) {
    if (s.protocol != null) k.security_protocol = s.protocol;
    if (s.mechanism != null) k.sasl_mechanism = s.mechanism;
    if (s.username != null) k.sasl_username = s.username;
    if (s.password != null) k.sasl_password = s.password;
    if (s.sslCaLocation != null) k.ssl_ca_location = s.sslCaLocation;
  }
  return k;
}

function spec(o) {
  const s = {};
  const filter = o.filter === 'vcOnly' ? 'vc_only' : o.filter;
  if (filter != null) s.filter = filter;
  if (o.format != null) s.format = o.format;
  if (o.readMode != null) s.read_mode = o.readMode;
  if (o.maxMessageBytes != null) s.max_message_bytes = o.maxMessageBytes;
  if (o.dedupe) {
    s.dedupe = true;
    if (typeof o.dedupe === 'object') {
      if (o.dedupe.maxEntries != null) s.dedupe_max_entries = o.dedupe.maxEntries;
      if (o.dedupe.ttlMs != null) s.dedupe_ttl_ms = o.dedupe.ttlMs;
    }
  }
  if (o.retry) {
    if (o.retry.maxRetries != null) s.max_retries = o.retry.maxRetries;
    if (o.retry.initialBackoffMs != null) s.initial_backoff_ms = o.retry.initialBackoffMs;
    if (o.retry.maxBackoffMs != null) s.max_backoff_ms = o.retry.maxBackoffMs;
  }
  if (o.handlerTimeoutMs != null) s.handler_timeout_ms = o.handlerTimeoutMs;
  if (o.deadLetterTopic != null) s.dead_letter_topic = o.deadLetterTopic;
  if (o.drainTimeoutMs != null) s.drain_timeout_ms = o.drainTimeoutMs;
  if (o.closeTimeoutMs != null) s.close_timeout_ms = o.closeTimeoutMs;
  if (o.metricsIntervalMs != null) s.metrics_interval_ms = o.metricsIntervalMs;
  const start = o.startFrom ?? (o.fromBeginning == null ? undefined : o.fromBeginning ? 'earliest' : 'latest');
  if (start != null) s.start_from = start;
  if (o.clientId != null) s.client_id = o.clientId;
  if (o.properties) s.properties = o.properties;
  return JSON.stringify(s);
}

/** A record that failed for good, as the `'error'` event gives it. */
function failureError(text) {
  const f = JSON.parse(text);
  const err = new HieVcError({ kind: f.kind ?? 'handler', message: f.message ?? f.reason, location: f.location, retryable: false });
  /** The core's failure (`reason`, `topic`, `partition`, `offset`, `attempts`, `disposition`, `deadLetterTopic` ...). */
  err.failure = f;
  return err;
}

/** The Kafka (or in-process) Encounter listener. */
class Listener extends EventEmitter {
  /**
   * @param {object} options `{ brokers, topics, groupId, security?: { protocol, mechanism,
   *   username, password, sslCaLocation }, filter?: 'vcOnly' | 'all', deadLetterTopic?,
   *   dedupe?: boolean | { maxEntries?, ttlMs? }, retry?: { maxRetries?, initialBackoffMs?,
   *   maxBackoffMs? }, format?, readMode?, maxMessageBytes?, handlerTimeoutMs?, fromBeginning?,
   *   clientId?, properties?, batchSize?, source?: Sandbox | MemoryBroker, settings?, path?, env? }`
   */
  constructor(options = {}) {
    super();
    this._batchSize = options.batchSize ?? 256;
    this._pending = [];
    this._batch = null;
    this._closing = false;
    this._closed = null;
    this._loop = null;
    this._turn = performance.now();
    const onError = (text) => this._failure(text);
    const specJson = spec(options);
    const source = options.source;
    if (source != null) {
      const broker = typeof source.eventSource === 'object' && source.eventSource != null ? source.eventSource : source;
      const topics = options.topics ?? (source.topic ? [source.topic] : undefined);
      if (!topics) throw new TypeError('topics: the topics to listen to on that broker');
      this._native = guard(() => native.NativeListener.forBroker(broker._native, options.groupId ?? 'hie-vc', topics, specJson, onError));
    } else if (options.path != null || options.env) {
      const overrides = JSON.stringify({ ...(options.settings ?? {}), kafka: { ...(options.settings?.kafka ?? {}), ...kafkaSection(options) } });
      this._native = guard(() => native.NativeListener.fromSettings(overrides, options.path, Boolean(options.env), specJson, onError));
    } else {
      const settings = JSON.stringify({ ...(options.settings ?? {}), kafka: { ...(options.settings?.kafka ?? {}), ...kafkaSection(options) } });
      this._native = guard(() => new native.NativeListener(settings, specJson, onError));
    }
  }

  _failure(text) {
    const err = failureError(text);
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(`hie-vc listener: a record failed for good (${err.failure.reason} at ${err.failure.topic}/${err.failure.partition}@${err.failure.offset}): ${err.message}`, 'HieVcListenerWarning');
  }

  /** The next event (null when none came within the wait); rejects with `HIEVC_CLOSED` once stopped. */
  /** Sends the acknowledgements gathered since the last call. */
  _flush() {
    if (this._batch == null) return;
    try {
      flushAcks(this._batch.native, this._batch.acks);
    } catch (e) {
      // The listener gave up on those events (it is stopping): they come back after a restart.
      if (!this._closing) this._crash(convert(e));
    }
  }

  async _next() {
    this._flush();
    if (performance.now() - this._turn > YIELD_MS) {
      await yieldTurn();
      this._turn = performance.now();
    }
    if (this._pending.length === 0) {
      let batch;
      try {
        batch = await this._native.nextBatch(this._batchSize, WAIT_MS);
      } catch (e) {
        throw convert(e);
      }
      this._turn = performance.now();
      if (batch.length === 0) return null;
      const { acks, events } = eventsOf(batch);
      this._batch = { native: batch, acks };
      this._pending = events.reverse();
    }
    return this._pending.pop();
  }

  /**
   * Starts handling events with `eachEncounter` (each event's offset is stored once its
   * promise resolved; a rejection is retried, then dead-lettered). Resolves once running,
   * as kafkajs' `run` does; the handling goes on until {@link close}.
   * @param {{ eachEncounter: (event: import('./event').EncounterEvent) => Promise<unknown> | unknown }} options
   */
  async run(options) {
    const handler = options && options.eachEncounter;
    if (typeof handler !== 'function') throw new TypeError('run({ eachEncounter }): eachEncounter must be a function');
    if (this._loop) throw new Error('this listener already runs');
    if (this._closing) throw convert(new HieVcError({ kind: 'closed', message: 'the listener was closed' }));
    this._loop = this._runLoop(handler);
  }

  async _runLoop(handler) {
    while (!this._closing) {
      let event;
      try {
        event = await this._next();
      } catch (e) {
        if (!this._closing) this._crash(e);
        return;
      }
      if (event == null) continue;
      try {
        await inHandler.run(this, () => handler(event));
        if (!event.answered) event.ack();
      } catch (err) {
        if (!event.answered) {
          try {
            event.fail(err);
          } catch (e) {
            // The listener gave up on the event meanwhile (stopping): it comes back later.
            if (!this._closing) this._crash(e);
          }
        }
      }
    }
  }

  _crash(e) {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else process.emitWarning(`hie-vc listener stopped: ${e && e.message}`, 'HieVcListenerWarning');
  }

  /**
   * The pull form: `for await (const event of listener)`. The previous event is acknowledged
   * when the next is asked for (unless answered already); leaving the loop (`break`, an
   * exception) fails the current one unless it was answered, so it is retried.
   */
  [Symbol.asyncIterator]() {
    let current = null;
    const settle = (ok) => {
      if (current && !current.answered) {
        if (ok) current.ack();
        else current.fail(new Error('the loop over the listener ended without answering this event'));
      }
      current = null;
      this._flush();
    };
    return {
      next: async () => {
        settle(true);
        while (!this._closing) {
          let event;
          try {
            event = await this._next();
          } catch (e) {
            if (this._closing) break;
            throw e;
          }
          if (event != null) {
            current = event;
            return { value: event, done: false };
          }
        }
        return { value: undefined, done: true };
      },
      return: async () => {
        settle(false);
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Whether it is running (started, no stop requested, not ended). */
  get isRunning() {
    return this._native.isRunning;
  }

  /** The listener's counters (`received`, `handled`, `processed`, `deadLettered` ...). */
  metrics() {
    return JSON.parse(this._native.metrics());
  }

  /**
   * Stops: the handler call in flight finishes, events not handled come back after a
   * restart; the stored offsets are committed and the group left. Idempotent. Called from
   * inside `eachEncounter`, it resolves once the stop is requested (waiting for the close
   * would wait for that very handler): the close completes after the handler returned, and
   * a later `close()` resolves when it did.
   */
  close() {
    const closing = this._startClose();
    if (inHandler.getStore() === this) {
      closing.catch((e) => this._crash(e));
      return Promise.resolve();
    }
    return closing;
  }

  _startClose() {
    if (!this._closed) {
      this._closing = true;
      this._closed = (async () => {
        this._flush();
        this._native.shutdown();
        if (this._loop) await this._loop;
        this._flush();
        this._pending = [];
        try {
          await this._native.close();
        } catch (e) {
          throw convert(e);
        }
      })();
    }
    return this._closed;
  }

  /** `await using listener = new Listener(...)` closes it. */
  async [Symbol.asyncDispose]() {
    await this.close();
  }
}

module.exports = { Listener };
