// The cross-language behaviour spec (tests/behaviour/*.json, format in its README) replayed
// on the Node package's public API: the same cases the Rust and Python suites run, matched
// against the same JSON documents. Every failing case of a file is reported by name; an
// unknown op, input key or matcher fails its case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fhir, mycore, HieVcError, Sandbox, MemoryBroker, Listener, VirtualConsultation } from 'hie-vc';
import { ROOT, specDir } from './support.mjs';

const SPEC = join(ROOT, 'tests', 'behaviour');
const DOCUMENT_KEYS = ['example', 'json', 'text', 'base64', 'patch'];

function checkKeys(obj, allowed, what = 'input') {
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new Error(`${what}: unknown keys ${unknown.join(', ')}`);
}

/** The bytes of a case's document (example / json / text / base64, optional patch). */
function documentBytes(d) {
  const sources = Object.keys(d).filter((k) => k !== 'patch');
  if (sources.length !== 1) throw new Error(`a document has exactly one source, not ${sources}`);
  const k = sources[0];
  if (k === 'text') return Buffer.from(d.text, 'utf8');
  if (k === 'base64') return Buffer.from(d.base64, 'base64');
  let value;
  if (k === 'example') {
    const raw = readFileSync(join(specDir(), 'mycore-ig', 'examples', d.example));
    if (!d.patch) return raw;
    value = JSON.parse(raw.toString('utf8'));
  } else if (k === 'json') {
    value = structuredClone(d.json);
  } else {
    throw new Error(`unknown document source ${k}`);
  }
  for (const op of d.patch ?? []) value = patch(value, op);
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function patch(value, op) {
  const parts = op.path.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (parts.length === 0) return op.value;
  let parent = value;
  for (const p of parts.slice(0, -1)) parent = Array.isArray(parent) ? parent[Number(p)] : parent[p];
  const last = parts.at(-1);
  if (Array.isArray(parent)) {
    if (op.op === 'remove') parent.splice(Number(last), 1);
    else if (op.op === 'add') parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
    else if (op.op === 'replace') parent[Number(last)] = op.value;
    else throw new Error(`unknown patch op ${op.op}`);
  } else if (op.op === 'remove') delete parent[last];
  else if (op.op === 'add' || op.op === 'replace') parent[last] = op.value;
  else throw new Error(`unknown patch op ${op.op}`);
  return value;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Matches `got` against `expect` (README "Matching"), pushing each problem found. */
export function matches(expect, got, at, problems) {
  if (isObject(expect) && Object.keys(expect).some((k) => k.startsWith('$'))) {
    for (const [k, v] of Object.entries(expect)) {
      if (k === '$present') {
        if ((got != null) !== v) problems.push(`${at}: present=${got != null}, expected ${v}`);
      } else if (k === '$contains') {
        if (typeof got !== 'string' || !got.includes(v)) problems.push(`${at}: ${JSON.stringify(got)} does not contain ${JSON.stringify(v)}`);
      } else if (k === '$excludes') {
        if (typeof got === 'string' && got.includes(v)) problems.push(`${at}: ${JSON.stringify(got)} contains ${JSON.stringify(v)}`);
      } else if (k === '$len') {
        if (!Array.isArray(got) || got.length !== v) problems.push(`${at}: length ${Array.isArray(got) ? got.length : null}, expected ${v}`);
      } else problems.push(`${at}: unknown matcher ${k}`);
    }
    return;
  }
  if (expect === null) {
    if (got != null) problems.push(`${at}: ${JSON.stringify(got)}, expected null/absent`);
    return;
  }
  if (isObject(expect)) {
    if (!isObject(got)) return void problems.push(`${at}: ${JSON.stringify(got)}, expected an object`);
    for (const [k, v] of Object.entries(expect)) matches(v, got[k], `${at}.${k}`, problems);
  } else if (Array.isArray(expect)) {
    if (!Array.isArray(got) || got.length !== expect.length) return void problems.push(`${at}: ${JSON.stringify(got)}, expected ${expect.length} items`);
    expect.forEach((e, i) => matches(e, got[i], `${at}[${i}]`, problems));
  } else if (typeof expect === 'number') {
    if (typeof got !== 'number' || got !== expect) problems.push(`${at}: ${JSON.stringify(got)}, expected ${expect}`);
  } else if (expect !== got) problems.push(`${at}: ${JSON.stringify(got)}, expected ${JSON.stringify(expect)}`);
}

function sameValue(a, b) {
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return sameValue(ka, kb) && ka.every((k) => sameValue(a[k], b[k]));
  }
  return a === b;
}

const errorOf = (e) => {
  if (e instanceof HieVcError) return { error: e.toJSON() };
  throw e;
};

// ---- read.json / validate.json

function opRead(inp) {
  checkKeys(inp, ['document', 'mode', 'deny_unknown']);
  try {
    return { result: fhir.read(documentBytes(inp.document), { lenient: inp.mode === 'lenient', denyUnknown: Boolean(inp.deny_unknown) }) };
  } catch (e) {
    return errorOf(e);
  }
}

function opRoundTrip(inp) {
  checkKeys(inp, ['document', 'mode', 'deny_unknown']);
  const data = documentBytes(inp.document);
  const lenient = inp.mode === 'lenient';
  let first;
  try {
    first = fhir.read(data, { lenient, denyUnknown: Boolean(inp.deny_unknown) });
  } catch (e) {
    return errorOf(e);
  }
  const written = fhir.write(data, { lenient });
  let again;
  try {
    again = fhir.read(written);
  } catch (e) {
    if (e instanceof HieVcError) return { rereadError: e.toJSON() };
    throw e;
  }
  return {
    result: {
      warnings: first.warnings,
      written: JSON.parse(written),
      writtenText: written,
      sameAsInput: sameValue(JSON.parse(written), JSON.parse(data.toString('utf8'))),
      stable: fhir.write(written) === written,
      rereadWarnings: again.warnings,
    },
  };
}

function opValidate(inp) {
  checkKeys(inp, ['document', 'read', 'deny_unknown', 'accept_published_quirks']);
  try {
    const report = mycore.validate(documentBytes(inp.document), {
      acceptPublishedQuirks: Boolean(inp.accept_published_quirks),
      lenient: inp.read === 'lenient',
      denyUnknown: Boolean(inp.deny_unknown),
    });
    return { result: report.toJSON() };
  } catch (e) {
    return errorOf(e);
  }
}

function opVcView(inp) {
  checkKeys(inp, ['document', 'read', 'deny_unknown']);
  try {
    return { result: mycore.vcView(documentBytes(inp.document), { lenient: inp.read === 'lenient', denyUnknown: Boolean(inp.deny_unknown) }) };
  } catch (e) {
    return errorOf(e);
  }
}

// ---- listener.json

const TOPIC = 'vc-encounters';
const OPTION_KEYS = ['format', 'filter', 'read_mode', 'max_message_bytes', 'max_retries', 'initial_backoff_ms', 'dead_letter_topic', 'dedupe'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function opListen(inp) {
  checkKeys(inp, ['options', 'handler', 'records']);
  const handler = inp.handler ?? 'ok';
  if (handler !== 'ok' && handler !== 'fail') throw new Error(`handler is "ok" or "fail", not ${handler}`);
  const o = inp.options ?? {};
  checkKeys(o, OPTION_KEYS, 'options');
  const broker = new MemoryBroker();
  inp.records.forEach((r, i) => {
    checkKeys(r, ['key', 'headers', 'tombstone', ...DOCUMENT_KEYS], `records[${i}]`);
    const value = r.tombstone ? null : documentBytes(Object.fromEntries(Object.entries(r).filter(([k]) => DOCUMENT_KEYS.includes(k))));
    broker.send(TOPIC, { value, key: r.key, headers: r.headers });
  });
  const retry = {};
  if (o.max_retries != null) retry.maxRetries = o.max_retries;
  if (o.initial_backoff_ms != null) retry.initialBackoffMs = o.initial_backoff_ms;
  const listener = new Listener({
    source: broker,
    topics: [TOPIC],
    groupId: 'behaviour',
    format: o.format,
    filter: o.filter,
    readMode: o.read_mode,
    maxMessageBytes: o.max_message_bytes,
    retry,
    deadLetterTopic: o.dead_letter_topic,
    dedupe: o.dedupe,
    metricsIntervalMs: 0,
  });
  const events = [];
  const failures = [];
  listener.on('error', (err) => failures.push(err.failure ?? { runError: err.message }));
  await listener.run({
    eachEncounter: async (event) => {
      events.push(event.toJSON());
      if (handler === 'fail') throw new Error("the case's handler fails");
    },
  });
  const n = inp.records.length;
  const deadline = Date.now() + 10_000;
  let finished = false;
  for (;;) {
    const m = listener.metrics();
    if (m.processed >= n && failures.length >= m.decodeErrors + m.handlerFailures) {
      finished = true;
      break;
    }
    if (Date.now() >= deadline) break;
    await sleep(10);
  }
  await listener.close();
  const metrics = listener.metrics();
  if (!finished) throw new Error(`the listener did not finish ${n} records within 10 s: ${JSON.stringify(metrics)}`);
  const deadLetters = o.dead_letter_topic
    ? broker.records(o.dead_letter_topic).map((r) => {
        const headers = {};
        for (const [k, v] of r.headers) if (!(k in headers)) headers[k] = v;
        return { key: r.key, payload: r.value, headers };
      })
    : [];
  return { events, failures, deadLetters, metrics };
}

// ---- client.json / vc.json

const CLIENT_STEPS = ['read', 'create', 'update', 'delete', 'search', 'faults', 'clear_faults', 'stats', 'records'];
const VC_STEPS = ['create_session', 'schedule', 'book', 'check_in', 'start', 'finish'];
const STEP_KEYS = {
  read: ['type', 'id'],
  delete: ['type', 'id'],
  create: ['resource'],
  update: ['resource', 'if_match'],
  search: ['type', 'params'],
  faults: ['service', 'faults'],
  clear_faults: [],
  stats: [],
  records: [],
  create_session: [],
  finish: [],
  schedule: ['schedule', 'slots'],
  book: ['appointment', 'slot'],
  check_in: ['appointment', 'patient'],
  start: ['practitioner'],
};

function substitute(v, from, to) {
  if (typeof v === 'string') return v.replaceAll(from, to);
  if (Array.isArray(v)) return v.map((x) => substitute(x, from, to));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, from, to)]));
  return v;
}

const text = (doc) => documentBytes(doc).toString('utf8');

async function outcome(p) {
  try {
    return { result: await p };
  } catch (e) {
    return errorOf(e);
  }
}

async function opScenario(op, inp) {
  checkKeys(inp, ['sandbox', 'settings', 'seed', 'steps']);
  const so = inp.sandbox ?? {};
  checkKeys(so, ['payload', 'validate', 'check_references', 'require_profile_claim', 'allow_delete'], 'sandbox');
  const sb = await Sandbox.start({
    payload: so.payload,
    validate: so.validate,
    checkReferences: so.check_references,
    requireProfileClaim: so.require_profile_claim,
    allowDelete: so.allow_delete,
  });
  try {
    const client = sb.client(inp.settings);
    const vc = VirtualConsultation.forSandbox(sb, inp.settings);
    for (const [i, doc] of (inp.seed ?? []).entries()) {
      try {
        await client.update(text(doc));
      } catch (e) {
        throw new Error(`seed[${i}] was not stored: ${e.message}`);
      }
    }
    let stats = sb.stats();
    let token = null;
    let encounter = null;
    const out = [];
    for (const [i, raw] of inp.steps.entries()) {
      const name = raw.do;
      if (!(CLIENT_STEPS.includes(name) || (op === 'vc' && VC_STEPS.includes(name)))) throw new Error(`steps[${i}]: '${name}' is not a step of the ${op} op`);
      checkKeys(raw, ['do', ...STEP_KEYS[name]], `step ${name}`);
      let step = raw;
      if (token != null) step = substitute(step, '{{token}}', token);
      if (encounter != null) step = substitute(step, '{{encounter}}', encounter.id);
      const run = async () => {
        switch (name) {
          case 'read':
            return outcome(client.read(step.type, step.id));
          case 'create':
            return outcome(client.create(text(step.resource)));
          case 'update':
            return outcome(client.update(text(step.resource), { ifMatch: step.if_match }));
          case 'delete':
            return outcome(client.delete(step.type, step.id));
          case 'search':
            return outcome(client.search(step.type, step.params ?? []).next());
          case 'faults':
            sb.setFaults(step.service, step.faults);
            return { result: {} };
          case 'clear_faults':
            sb.clearFaults();
            return { result: {} };
          case 'stats': {
            const now = sb.stats();
            const delta = {};
            for (const [s, c] of Object.entries(now)) {
              delta[s] = { requests: c.requests - stats[s].requests, failed: c.failed - stats[s].failed, dropped: c.dropped - stats[s].dropped };
            }
            stats = now;
            return { result: delta };
          }
          case 'records':
            return { result: { notifications: sb.notifications(), jitsiSessions: sb.jitsiSessions() } };
          case 'create_session': {
            const r = await outcome(vc.createSession());
            if (r.result) token = r.result.token;
            return r;
          }
          case 'schedule':
            return outcome(vc.schedule(text(step.schedule), step.slots.map(text)));
          case 'book':
            return outcome(vc.book(text(step.appointment), { slotId: step.slot }));
          case 'check_in': {
            const r = await sb.checkIn(step.appointment, { patientId: step.patient });
            encounter = r.encounter;
            return { result: r };
          }
          case 'start':
            if (!encounter) throw new Error('start needs a check_in step before it');
            return outcome(vc.start(encounter, step.practitioner));
          case 'finish':
            if (!encounter) throw new Error('finish needs a check_in step before it');
            return outcome(vc.finish(encounter.id));
          default:
            throw new Error(`unknown step ${name}`);
        }
      };
      let timer;
      const limit = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`steps[${i}] (${name}) took over 30 s`)), 30_000);
      });
      try {
        out.push(await Promise.race([run(), limit]));
      } finally {
        clearTimeout(timer);
      }
    }
    return { steps: out };
  } finally {
    await sb.close();
  }
}

const OPS = {
  read: opRead,
  round_trip: opRoundTrip,
  validate: opValidate,
  vc_view: opVcView,
  listen: opListen,
  client: (inp) => opScenario('client', inp),
  vc: (inp) => opScenario('vc', inp),
};

async function replay(area) {
  const spec = JSON.parse(readFileSync(join(SPEC, `${area}.json`), 'utf8'));
  assert.equal(spec.format, 1);
  assert.equal(spec.area, area);
  const failures = [];
  for (const c of spec.cases) {
    const op = OPS[c.op];
    if (!op) {
      failures.push(`${c.name}: unknown op ${c.op}`);
      continue;
    }
    let got;
    try {
      got = await op(c.input);
    } catch (e) {
      failures.push(`${c.name}: ${e && e.stack ? e.stack.split('\n').slice(0, 2).join(' ') : e}`);
      continue;
    }
    const problems = [];
    matches(c.expect, got, '$', problems);
    failures.push(...problems.map((p) => `${c.name}: ${p}`));
  }
  return { n: spec.cases.length, failures };
}

for (const area of ['read', 'validate', 'listener', 'client', 'vc']) {
  test(`behaviour: ${area}.json`, async () => {
    const { n, failures } = await replay(area);
    assert.ok(n > 0);
    assert.deepEqual(failures, [], `${failures.length} problem(s) in ${area}.json:\n${failures.join('\n')}`);
  });
}

test('the runner reports a wrong expectation', () => {
  let problems = [];
  matches({ result: { valid: true, issues: { $len: 0 } } }, { result: { valid: false, issues: [1] } }, '$', problems);
  assert.equal(problems.length, 2);
  problems = [];
  matches({ a: { $nope: 1 } }, { a: 1 }, '$', problems);
  assert.deepEqual(problems, ['$.a: unknown matcher $nope']);
  problems = [];
  matches({ a: true }, { a: 1 }, '$', problems);
  assert.equal(problems.length, 1, 'a boolean never matches a number');
});
