// Builds the addon with plain `cargo build` in the shared target directory and profile (the
// core compiled by `cargo test` is reused; `napi build` always passes `--target`, which
// builds the whole workspace a second time in a directory of its own), then writes what
// `napi build --platform` writes: `hie-vc.<platform>.node`, the loader `native.js` and the
// types `native.d.ts`, with @napi-rs/cli's own generators.
//
//   node tools/build.mjs [--release]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTypeDef, writeJsBinding } from '@napi-rs/cli';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const release = process.argv.includes('--release');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(here, '..', 'target');
const typeDefDir = join(targetDir, 'napi-rs', 'hie-vc-node-typedef');
mkdirSync(typeDefDir, { recursive: true });
const env = { ...process.env, CARGO_TARGET_DIR: targetDir, NAPI_TYPE_DEF_TMP_FOLDER: typeDefDir };
// napi-derive writes a crate's type definitions while it expands the macros: a crate
// compiled before without them is rebuilt once.
if (!existsSync(join(typeDefDir, 'hie-vc-node'))) env.NAPI_FORCE_BUILD_HIE_VC_NODE = String(Date.now());
const args = ['build', '-p', 'hie-vc-node', '--lib', ...(release ? ['--release'] : [])];
execFileSync('cargo', args, { cwd: here, env, stdio: 'inherit' });

const platform = `${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`;
const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
const lib = process.platform === 'win32' ? 'hie_vc_node.dll' : `libhie_vc_node.${ext}`;
const binary = join(here, `hie-vc.${platform}.node`);
copyFileSync(join(targetDir, release ? 'release' : 'debug', lib), binary);

const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const { exports, dts } = await generateTypeDef({ typeDefDir, cwd: here, declareBindingTarget: true });
writeFileSync(join(here, 'native.d.ts'), dts);
await writeJsBinding({
  platform: true,
  idents: exports,
  jsBinding: 'native.js',
  binaryName: 'hie-vc',
  packageName: pkg.name,
  version: pkg.version,
  outputDir: here,
});
console.log(`built ${binary} (${release ? 'release' : 'dev'} profile), native.js, native.d.ts`);
