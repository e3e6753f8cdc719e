'use strict';
/**
 * Errors of the package: every failure of the core arrives as a {@link HieVcError}, whose
 * `code` follows Node's convention (`'HIEVC_NOT_FOUND'`, `'HIEVC_VALIDATION'` ...) and whose
 * fields are the core's `ErrorInfo`. Messages never carry a secret or a patient identifier
 * (the core words them).
 */

/** What starts the message of a native error that carries the core's `ErrorInfo` JSON. */
const MARKER = '\u0001hievc:';

let Report = null; // set by mycore.js (a cycle otherwise)

/** An error of the hie-vc core. */
class HieVcError extends Error {
  /**
   * @param {object} info the core's `ErrorInfo` JSON (`kind`, `message`, `httpStatus` ...)
   * @param {ErrorOptions} [options] `{ cause }`
   */
  constructor(info, options) {
    super(info.message, options);
    Object.defineProperty(this, 'name', { value: 'HieVcError', enumerable: false, configurable: true, writable: true });
    /** The core's error kind (`not_found`, `decode`, `validation` ...). */
    this.kind = info.kind;
    /** `'HIEVC_' + kind` upper-cased, Node's `code` convention. */
    this.code = `HIEVC_${String(info.kind).toUpperCase()}`;
    /** The HTTP status, for HTTP errors (else null). */
    this.status = info.httpStatus ?? null;
    /** The `X-Request-Id` of the failed HTTP request (else null). */
    this.requestId = info.requestId ?? null;
    /** The OperationOutcome the server sent (else null). */
    this.outcome = info.operationOutcome ?? null;
    /** The MY Core validation report, for validation errors (else null). */
    this.report = info.report && Report ? new Report(info.report, info.reportOutcome ?? null) : null;
    /** Where in the input the problem is (FHIRPath-like), else null. */
    this.location = info.location ?? null;
    /** How long the server asked to wait, in ms (else null). */
    this.retryAfterMs = info.retryAfterMs ?? null;
    /** Whether retrying later may succeed. */
    this.retryable = Boolean(info.retryable);
    /** The VC workflow step that failed (else null). */
    this.step = info.step ?? null;
    /** The VC workflow steps done before it. */
    this.completedSteps = info.completedSteps ?? [];
  }

  /** The core's `ErrorInfo` form (what every binding hands out as data). */
  toJSON() {
    return {
      kind: this.kind,
      message: this.message,
      httpStatus: this.status,
      operationOutcome: this.outcome,
      report: this.report ? this.report.toJSON() : null,
      location: this.location,
      requestId: this.requestId,
      retryAfterMs: this.retryAfterMs,
      retryable: this.retryable,
      step: this.step,
      completedSteps: this.completedSteps,
    };
  }
}

/**
 * The error to give the caller for a native failure: a HieVcError for a core error, the
 * signal's reason for an aborted call, anything else unchanged.
 * @param {unknown} e
 * @param {AbortSignal} [signal]
 */
function convert(e, signal) {
  if (signal && signal.aborted) return signal.reason;
  if (e instanceof Error && typeof e.message === 'string' && e.message.startsWith(MARKER)) {
    let info;
    try {
      info = JSON.parse(e.message.slice(MARKER.length));
    } catch {
      return e;
    }
    const err = new HieVcError(info);
    return err;
  }
  return e;
}

/** Runs `f`, converting what it throws. */
function guard(f) {
  try {
    return f();
  } catch (e) {
    throw convert(e);
  }
}

function setReport(cls) {
  Report = cls;
}

module.exports = { HieVcError, convert, guard, setReport };
