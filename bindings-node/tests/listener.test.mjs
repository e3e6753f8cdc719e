// The listener: on the sandbox's in-process broker (run, for await, errors, dead letters,
// exit after close) and on the real Kafka broker with records produced by kafkajs (records
// reach eachEncounter and the iterator; a rejecting handler ends in the dead-letter topic
// with its headers; kill -9 mid-stream of 20 000 records, restart: none lost; the process
// exits by itself after close()). The real-broker tests FAIL without HIEVC_KAFKA_BOOTSTRAP,
// unless HIEVC_NO_SERVICES=1.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { Listener, MemoryBroker, Sandbox, mycore, EncounterEvent, HieVcError } from 'hie-vc';
import { kafka as services, requireBroker } from './support.mjs';
import { kafka, freshTopic, produceEncounters, readAll, encounter } from './kafka.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, f, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function bookAndCheckIn(sb, id) {
  const client = sb.client();
  await client.update(mycore.vciAppointment({ id, specialty: '86', patient: { id: `pt-${id}`, display: 'Siti' }, start: '2030-07-10T21:00:00+08:00', end: '2030-07-10T22:00:00+08:00' }));
  return sb.checkIn(id);
}

describe('on the sandbox', () => {
  test('run({ eachEncounter }) gets the typed event; the offset is stored after the promise resolved', async () => {
    const sb = await Sandbox.start({ checkReferences: false });
    const listener = new Listener({ source: sb, groupId: `g-${randomUUID()}` });
    try {
      const seen = [];
      let release;
      const gate = new Promise((r) => (release = r));
      await listener.run({
        eachEncounter: async (event) => {
          seen.push(event);
          await gate;
        },
      });
      const ci = await bookAndCheckIn(sb, 'lis-1');
      await until('the event', () => seen.length === 1);
      const ev = seen[0];
      assert.ok(ev instanceof EncounterEvent);
      assert.equal(ev.encounterId, ci.encounterId);
      assert.equal(ev.encounter.class.code, 'VR');
      assert.equal(ev.vc.type, 'VCI');
      assert.ok(Buffer.isBuffer(ev.raw) && JSON.parse(ev.raw.toString()).resourceType);
      assert.equal(typeof ev.offset, 'string');
      assert.equal(ev.topic, sb.topic);
      assert.equal(ev.answered, false, 'not answered while the handler runs');
      assert.equal(listener.metrics().handled, 0);
      release();
      await until('the ack', () => listener.metrics().handled === 1);
      assert.equal(ev.answered, true);
      assert.throws(() => ev.ack(), (e) => e instanceof HieVcError && e.code === 'HIEVC_INVALID_INPUT');
    } finally {
      await listener.close();
      await sb.close();
    }
    assert.equal(listener.isRunning, false);
  });

  test('for await over the listener; leaving the loop fails the current event, so it comes back', async () => {
    const broker = new MemoryBroker();
    for (let i = 0; i < 3; i++) broker.send('t', { value: encounter(`it-${i}`), key: `it-${i}` });
    const listener = new Listener({ source: broker, topics: ['t'], groupId: 'g', retry: { maxRetries: 3, initialBackoffMs: 10 } });
    const ids = [];
    for await (const event of listener) {
      ids.push(event.encounterId);
      if (ids.length === 2) break;
    }
    for await (const event of listener) {
      ids.push(event.encounterId);
      if (ids.length === 4) break;
    }
    await listener.close();
    // it-1 comes back after its retry's backoff (it-2 may come before it)
    assert.deepEqual(ids.slice(0, 2), ['it-0', 'it-1']);
    assert.deepEqual(ids.slice(2).sort(), ['it-1', 'it-2']);
    assert.equal(listener.metrics().retries, 2, 'each break failed the event it held');
  });

  test('a rejecting handler is retried, then dead-lettered with hievc.dlq headers and reported by the error event', async () => {
    const broker = new MemoryBroker();
    broker.send('t', { value: encounter('bad-1'), key: 'bad-1', headers: { 'x-trace': 'abc' } });
    broker.send('t', { value: '{not json', key: 'poison' });
    broker.send('t', { value: encounter('good-1'), key: 'good-1' });
    const listener = new Listener({ source: broker, topics: ['t'], groupId: 'g', deadLetterTopic: 'dlq', retry: { maxRetries: 2, initialBackoffMs: 5 } });
    const errors = [];
    listener.on('error', (e) => errors.push(e));
    const calls = [];
    await listener.run({
      eachEncounter: async (event) => {
        calls.push(event.encounterId);
        if (event.encounterId === 'bad-1') throw new Error('downstream refused it');
      },
    });
    await until('both failures', () => errors.length === 2);
    await until('all processed', () => listener.metrics().processed === 3);
    await listener.close();
    assert.deepEqual(calls.filter((c) => c === 'bad-1').length, 3, 'the first call and 2 retries');
    assert.ok(calls.includes('good-1'), 'the failing record does not block the partition');
    const handlerFailure = errors.find((e) => e.failure.reason === 'handler');
    assert.ok(handlerFailure instanceof HieVcError);
    assert.equal(handlerFailure.failure.attempts, 3);
    assert.equal(handlerFailure.failure.disposition, 'dead_lettered');
    assert.ok(errors.some((e) => e.failure.reason.startsWith('decode')));
    const dead = broker.records('dlq');
    assert.equal(dead.length, 2);
    const h = Object.fromEntries(dead[0].headers);
    assert.equal(h['hievc.dlq.reason'], 'handler');
    assert.equal(h['hievc.dlq.attempts'], '3');
    assert.equal(h['x-trace'], 'abc');
    assert.equal(dead[0].key, 'bad-1');
  });

  test("an error whose retriable is false (kafkajs' convention) is not retried", async () => {
    const broker = new MemoryBroker();
    broker.send('t', { value: encounter('perm-1') });
    const listener = new Listener({ source: broker, topics: ['t'], groupId: 'g', retry: { maxRetries: 5, initialBackoffMs: 5 } });
    const errors = [];
    listener.on('error', (e) => errors.push(e));
    let calls = 0;
    await listener.run({
      eachEncounter: async () => {
        calls += 1;
        throw Object.assign(new Error('malformed for us'), { retriable: false });
      },
    });
    await until('the failure', () => errors.length === 1);
    await listener.close();
    assert.equal(calls, 1);
    assert.equal(errors[0].failure.attempts, 1);
  });

  test('the event loop stays responsive while 5 000 records are decoded', async () => {
    const broker = new MemoryBroker();
    for (let i = 0; i < 5000; i++) broker.send('t', { value: encounter(`lag-${i}`) });
    const h = monitorEventLoopDelay({ resolution: 5 });
    const listener = new Listener({ source: broker, topics: ['t'], groupId: 'g' });
    let n = 0;
    h.enable();
    await listener.run({ eachEncounter: async () => void (n += 1) });
    await until('5 000 events', () => n === 5000, 60_000);
    h.disable();
    await listener.close();
    const p99 = h.percentile(99) / 1e6;
    console.log(`event-loop delay p99 ${p99.toFixed(1)} ms, max ${(h.max / 1e6).toFixed(1)} ms over 5 000 records`);
    assert.ok(p99 < 100, `event-loop delay p99 ${p99} ms`);
  });

  test('the process exits by itself once the listener is closed', async () => {
    const script = `
      const { Listener, MemoryBroker } = require('hie-vc');
      const b = new MemoryBroker();
      b.send('t', { value: ${JSON.stringify(JSON.stringify(encounter('exit-1')))} });
      const l = new Listener({ source: b, topics: ['t'], groupId: 'g' });
      l.on('error', () => {});
      let got;
      const first = new Promise((r) => (got = r));
      l.run({ eachEncounter: async (e) => { console.log('got', e.encounterId); await l.close(); console.log('close requested'); got(); } });
      first.then(() => l.close()).then(() => console.log('closed', l.isRunning));
    `;
    const t0 = Date.now();
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the process did not exit within 15 s after close (output: ${out})`));
      }, 15_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0);
    assert.match(out, /got exit-1\nclose requested\nclosed false/);
    console.log(`exited ${Date.now() - t0} ms after start`);
  });
});

const k = services();
describe('on the real Kafka broker (records produced by kafkajs)', { skip: k.skip }, () => {
  test('records reach eachEncounter and the async iterator, with key, headers and offsets', async () => {
    const bootstrap = requireBroker(k);
    const kc = kafka(bootstrap);
    const topic = await freshTopic(kc, 'node-lis', 3);
    await produceEncounters(kc, topic, 30, 'kj');
    const listener = new Listener({ brokers: [bootstrap], topics: [topic], groupId: `g-${randomUUID()}`, fromBeginning: true });
    const seen = new Map();
    await listener.run({ eachEncounter: async (e) => void seen.set(e.encounterId, e) });
    await until('30 events', () => seen.size === 30, 60_000);
    await listener.close();
    const e = seen.get('kj-7');
    assert.equal(e.key.toString(), 'kj-7');
    assert.equal(e.headers['x-source'].toString(), 'kafkajs');
    assert.equal(e.topic, topic);
    assert.match(e.offset, /^\d+$/);
    assert.match(e.timestamp, /^\d+$/);
    assert.equal(e.vc.type, 'VCI');

    const pull = new Listener({ brokers: bootstrap, topics: [topic], groupId: `g-${randomUUID()}`, fromBeginning: true });
    const ids = new Set();
    for await (const event of pull) {
      ids.add(event.encounterId);
      if (ids.size === 30) break;
    }
    await pull.close();
    assert.equal(ids.size, 30);
  });

  test('a rejecting handler ends in the dead-letter topic with its headers', async () => {
    const bootstrap = requireBroker(k);
    const kc = kafka(bootstrap);
    const topic = await freshTopic(kc, 'node-dlq-in', 1);
    const dlq = await freshTopic(kc, 'node-dlq', 1);
    await produceEncounters(kc, topic, 3, 'dl');
    const listener = new Listener({ brokers: [bootstrap], topics: [topic], groupId: `g-${randomUUID()}`, fromBeginning: true, deadLetterTopic: dlq, retry: { maxRetries: 1, initialBackoffMs: 10 } });
    const errors = [];
    listener.on('error', (e) => errors.push(e));
    await listener.run({
      eachEncounter: async (e) => {
        if (e.encounterId === 'dl-1') throw new Error('the portal database is down');
      },
    });
    await until('the failure', () => errors.length === 1, 60_000);
    await until('3 processed', () => listener.metrics().processed === 3, 30_000);
    await listener.close();
    assert.equal(errors[0].failure.disposition, 'dead_lettered');
    const dead = await readAll(kc, dlq, 1);
    assert.equal(dead.length, 1);
    const h = dead[0].headers;
    assert.equal(dead[0].key.toString(), 'dl-1');
    assert.equal(h['hievc.dlq.reason'].toString(), 'handler');
    assert.equal(h['hievc.dlq.attempts'].toString(), '2');
    assert.equal(h['hievc.dlq.original.topic'].toString(), topic);
    assert.equal(h['x-source'].toString(), 'kafkajs');
    assert.equal(JSON.parse(dead[0].value.toString()).id, 'dl-1');
  });

  test('kill -9 mid-stream of 20 000 records, restart: none lost', { timeout: 300_000 }, async () => {
    const bootstrap = requireBroker(k);
    const kc = kafka(bootstrap);
    const topic = await freshTopic(kc, 'node-kill', 3);
    const N = 20_000;
    await produceEncounters(kc, topic, N, 'k9');
    const dir = mkdtempSync(join(tmpdir(), 'hievc-node-kill-'));
    const out = join(dir, 'seen.txt');
    const group = `g-${randomUUID()}`;
    const start = () => spawn(process.execPath, [join(HERE, 'fixtures', 'consume.mjs'), bootstrap, topic, group, out, 'forever'], { stdio: ['ignore', 'inherit', 'inherit'] });
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
    const first = start();
    await until('a third of the records', () => lines().length >= N / 3, 120_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.on('exit', r));
    const before = lines().length;
    const second = start();
    try {
      await until('every record', () => new Set(lines()).size === N, 180_000);
    } finally {
      second.kill('SIGKILL');
    }
    const seen = new Set(lines());
    const lost = [];
    for (let i = 0; i < N; i++) if (!seen.has(`k9-${i}`)) lost.push(i);
    console.log(`killed after ${before} records; ${lines().length} handled in all (${lines().length - N} redelivered), ${lost.length} lost`);
    assert.equal(lost.length, 0);
  });

  test('the process exits by itself after close()', { timeout: 60_000 }, async () => {
    const bootstrap = requireBroker(k);
    const kc = kafka(bootstrap);
    const topic = await freshTopic(kc, 'node-exit', 1);
    await produceEncounters(kc, topic, 5, 'ex');
    const dir = mkdtempSync(join(tmpdir(), 'hievc-node-exit-'));
    const child = spawn(process.execPath, [join(HERE, 'fixtures', 'consume.mjs'), bootstrap, topic, `g-${randomUUID()}`, join(dir, 'seen.txt'), 'close-after:5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let outText = '';
    child.stdout.on('data', (d) => (outText += d));
    const t0 = Date.now();
    const code = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`still running 45 s after start (output: ${outText})`));
      }, 45_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0);
    assert.match(outText, /closed after 5/);
    console.log(`exited by itself ${Date.now() - t0} ms after start`);
  });
});
