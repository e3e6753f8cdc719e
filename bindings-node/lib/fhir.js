'use strict';
/**
 * `fhir`: reading and writing FHIR JSON with the Rust model. The typed, strict (or lenient)
 * read happens in Rust; what comes back is a plain FHIR JSON object, as the model's writer
 * gives it.
 */
const native = require('./native');
const { guard } = require('./errors');

function input(data) {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return JSON.stringify(data);
}

/**
 * Reads FHIR JSON (text, bytes or an object) as any resource.
 * @param {string | Buffer | Uint8Array | object} data
 * @param {{ lenient?: boolean, denyUnknown?: boolean }} [options] `lenient`: keep what can
 *   be kept, with warnings; `denyUnknown`: refuse elements the model does not know.
 * @returns {{ resource: object, resourceType: string, warnings: Array<{kind: string, location: string, message: string}> }}
 * @throws {import('./errors').HieVcError} `HIEVC_DECODE` with the `location` of the problem
 */
function read(data, options = {}) {
  return JSON.parse(guard(() => native.fhirRead(input(data), Boolean(options.lenient), Boolean(options.denyUnknown))));
}

/**
 * The JSON text the model's writer makes of a resource (read strictly, or leniently).
 * @param {string | Buffer | Uint8Array | object} data
 * @param {{ lenient?: boolean }} [options]
 * @returns {string}
 */
function write(data, options = {}) {
  return guard(() => native.fhirWrite(input(data), Boolean(options.lenient)));
}

module.exports = { read, write, input };
