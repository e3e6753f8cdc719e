// fhir.read / fhir.write: the Rust model's strict and lenient reads, from text, Buffers and
// objects; errors with their location; the writer's JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fhir, HieVcError } from 'hie-vc';
import { specDir } from './support.mjs';

const example = (name) => readFileSync(join(specDir(), 'mycore-ig', 'examples', name));

test('a published example reads from a Buffer, text and an object alike', () => {
  const bytes = example('vci-enc-example.json');
  const a = fhir.read(bytes);
  const b = fhir.read(bytes.toString('utf8'));
  const c = fhir.read(JSON.parse(bytes.toString('utf8')));
  assert.equal(a.resourceType, 'Encounter');
  assert.equal(a.resource.resourceType, 'Encounter');
  assert.equal(a.resource.class.code, 'VR');
  assert.deepEqual(a.warnings, []);
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
});

test('a strict read refuses a bad value with its location; a lenient read keeps it with a warning that does not show the value', () => {
  const doc = { resourceType: 'Patient', id: 'p1', birthDate: 'not-a-date', name: [{ text: 'Siti' }] };
  assert.throws(
    () => fhir.read(doc),
    (e) => e instanceof HieVcError && e.code === 'HIEVC_DECODE' && e.kind === 'decode' && /birthDate/.test(e.location ?? '') && e instanceof Error,
  );
  const r = fhir.read(doc, { lenient: true });
  assert.equal(r.resource.name[0].text, 'Siti');
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0].kind, 'invalid_format');
  assert.ok(!r.warnings[0].message.includes('not-a-date'), 'a warning never shows the value');
  assert.match(r.warnings[0].location, /birthDate/);
});

test('denyUnknown refuses an element the model does not know', () => {
  const doc = { resourceType: 'Patient', id: 'p1', colour: 'blue' };
  assert.equal(fhir.read(doc).resource.id, 'p1');
  assert.throws(() => fhir.read(doc, { denyUnknown: true }), { code: 'HIEVC_DECODE' });
});

test('not JSON, and not UTF-8, are decode errors', () => {
  assert.throws(() => fhir.read('{"resourceType":'), { code: 'HIEVC_DECODE' });
  assert.throws(() => fhir.read(Buffer.from([0xff, 0xfe, 0x00])), { code: 'HIEVC_DECODE' });
});

test("write gives the model's JSON text, which reads back to the same resource", () => {
  const bytes = example('vci-app-example.json');
  const text = fhir.write(bytes);
  assert.equal(typeof text, 'string');
  assert.deepEqual(fhir.read(text).resource, fhir.read(bytes).resource);
  assert.equal(fhir.write(text), text);
});

test('a HieVcError is an Error with a stack, a JSON form and no stray fields', () => {
  try {
    fhir.read('[]');
    assert.fail('a JSON array is not a resource');
  } catch (e) {
    assert.ok(e instanceof HieVcError);
    assert.equal(e.name, 'HieVcError');
    assert.ok(e.stack.includes('HieVcError'));
    const j = e.toJSON();
    assert.equal(j.kind, 'decode');
    assert.equal(j.httpStatus, null);
    assert.deepEqual(j.completedSteps, []);
  }
});
