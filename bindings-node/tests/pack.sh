#!/usr/bin/env bash
# `npm pack` of the package with this platform's binary (linux-x64-gnu here), installed into
# an empty project with no Rust toolchain on the PATH, then used from CommonJS, ESM and
# TypeScript. The binary packed is the one the last build made (stripped of debug info:
# `node tools/build.mjs --release` first for a tarball to publish).
set -uo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
mkdir -p "$stage"
cp -r package.json lib fhir.d.ts native.js native.d.ts install.js README.md "$stage"/ || exit 1
for f in hie-vc.*.node; do
    strip --strip-debug -o "$stage/$f" "$f" || exit 1
done
(cd "$stage" && npm pack --silent --pack-destination "$work" >/dev/null) || exit 1
tgz=$(ls "$work"/hie-vc-*.tgz)
echo "packed $(basename "$tgz") ($(du -h "$tgz" | cut -f1)):"
tar tzf "$tgz" >"$work/list" || exit 1
sed 's/^/  /' "$work/list"
grep -qx 'package/hie-vc.linux-x64-gnu.node' "$work/list" || { echo "the tarball holds no linux-x64-gnu binary" >&2; exit 1; }

# An empty project, and a PATH without cargo or rustc: the install must not need them.
proj=$work/proj
mkdir -p "$proj/bin"
for tool in node npm npx sh env; do ln -s "$(command -v "$tool")" "$proj/bin/$tool"; done
cd "$proj" || exit 1
PATH=$proj/bin npm init -y >/dev/null || exit 1
PATH=$proj/bin npm install --no-audit --no-fund --loglevel=error "$tgz" || exit 1
PATH=$proj/bin command -v cargo >/dev/null && { echo "cargo is on the PATH of the install check" >&2; exit 1; }
PATH=$proj/bin node -e "
const { fhir, mycore, version } = require('hie-vc');
const r = fhir.read('{\"resourceType\":\"Patient\",\"id\":\"p1\"}');
if (r.resource.id !== 'p1') throw new Error('read');
const a = mycore.vciAppointment({ id: 'a1', specialty: '86', patient: { id: 'p1', display: 'S' }, start: '2030-01-01T09:00:00+08:00', end: '2030-01-01T09:30:00+08:00' });
if (!mycore.validate(a).valid) throw new Error('validate');
console.log('CommonJS: hie-vc', version, 'works from the tarball');
" || exit 1
PATH=$proj/bin node --input-type=module -e "
import { Sandbox, fhir } from 'hie-vc';
const sb = await Sandbox.start();
const c = sb.client();
await c.update({ resourceType: 'Patient', id: 'p1' });
console.log('ESM: sandbox read', (await c.read('Patient', 'p1')).resource.id);
await sb.close();
" || exit 1
