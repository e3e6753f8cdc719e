'use strict';
// npm's install step of the `hie-vc` package: nothing to do when the binary of this platform
// ships with the package (the npm tarball holds linux-x64-gnu's); otherwise, inside the
// hie-vc repository (`npm install ./bindings-node`), build it from source with cargo.
const { existsSync, copyFileSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');

const platform = `${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`;
const binary = join(__dirname, `hie-vc.${platform}.node`);
if (existsSync(binary)) process.exit(0);

const workspace = join(__dirname, '..', 'Cargo.toml');
if (!existsSync(workspace)) {
  console.error(`hie-vc: no prebuilt binary for ${platform}, and no hie-vc source tree to build one from (install from the repository: npm install <repo>/bindings-node)`);
  process.exit(1);
}
console.error(`hie-vc: no prebuilt binary for ${platform}: building the addon with cargo (release profile)`);
try {
  execFileSync('cargo', ['build', '--release', '-p', 'hie-vc-node', '--lib'], { cwd: __dirname, stdio: 'inherit' });
} catch (e) {
  console.error('hie-vc: cargo build failed (a Rust toolchain is needed where no prebuilt binary fits): https://rustup.rs');
  process.exit(1);
}
const target = process.env.CARGO_TARGET_DIR ?? join(__dirname, '..', 'target');
const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
const lib = process.platform === 'win32' ? 'hie_vc_node.dll' : `libhie_vc_node.${ext}`;
copyFileSync(join(target, 'release', lib), binary);
