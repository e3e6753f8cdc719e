'use strict';
// Promises of native calls, cancellable by an AbortSignal: each call gets an id the native
// side registers; an abort drops the Rust future at once and the Promise rejects with the
// signal's reason (an AbortError, as fetch does).
const native = require('./native');
const { convert } = require('./errors');

let lastId = 0;

/**
 * @template T
 * @param {AbortSignal | undefined} signal
 * @param {(id: number | undefined) => Promise<T>} start the native call, given the call id
 * @returns {Promise<T>}
 */
async function call(signal, start) {
  if (signal == null) {
    try {
      return await start(undefined);
    } catch (e) {
      throw convert(e);
    }
  }
  signal.throwIfAborted();
  lastId = lastId >= 0xfffffff0 ? 1 : lastId + 1;
  const id = lastId;
  const onAbort = () => native.abortCall(id);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await start(id);
  } catch (e) {
    throw convert(e, signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** JSON text of a resource argument: objects are written, text and Buffers pass as they are. */
function resourceText(r) {
  if (typeof r === 'string') return r;
  if (Buffer.isBuffer(r)) return r.toString('utf8');
  if (r instanceof Uint8Array) return Buffer.from(r).toString('utf8');
  return JSON.stringify(r);
}

/** Parses native JSON text (null stays null). */
function parse(text) {
  return text == null ? null : JSON.parse(text);
}

module.exports = { call, resourceText, parse };
