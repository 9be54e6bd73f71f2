// jco-preopens.mjs -- preload for `jco embed` (jco 1.35.0).
//
// jco's bundled wasm-tools runs on the preview2 shim with no directory
// preopened, so `jco embed --wit DIR` cannot read DIR and panics (NotFound).
// Preloading this (node --import) preopens / for the shim copy that
// jco-transpile uses. Build-time only; nothing here ships.
import { _setPreopens } from '../node_modules/@bytecodealliance/jco-transpile/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js';

_setPreopens({ '/': '/' });
