// Shared test helpers: where the repository and the IG data are, and whether the real
// services are required.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The IG data (`$HIEVC_SPEC_DIR`, else `<repo>/../shared/spec`). */
export function specDir() {
  return process.env.HIEVC_SPEC_DIR ?? join(ROOT, '..', 'shared', 'spec');
}

/**
 * The Kafka bootstrap of the real broker. Without HIEVC_KAFKA_BOOTSTRAP a real-broker test
 * fails (it must not pass unnoticed), unless HIEVC_NO_SERVICES=1 leaves the services out:
 * then `skip` is the reason to give node:test.
 */
export function kafka() {
  const bootstrap = process.env.HIEVC_KAFKA_BOOTSTRAP;
  if (bootstrap) return { bootstrap, skip: false };
  if (process.env.HIEVC_NO_SERVICES === '1') return { bootstrap: null, skip: 'HIEVC_NO_SERVICES=1: the real-broker tests are left out' };
  return { bootstrap: null, skip: false };
}

/** Fails the test when the broker is required but unknown. */
export function requireBroker(k) {
  if (!k.bootstrap) throw new Error('HIEVC_KAFKA_BOOTSTRAP is not set: start tests/services/kafka.sh (or set HIEVC_NO_SERVICES=1 to leave the real-broker tests out)');
  return k.bootstrap;
}
