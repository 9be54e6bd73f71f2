// core.mjs -- load build/obj/pw-core.wasm (lib/ with plain exports, no
// imports) and call it from JavaScript.
import fs from 'node:fs';

export const STATUS = ['captured', 'ignored', 'method_not_allowed', 'payload_too_large',
  'malformed_request', 'missing_signature', 'bad_signature', 'unusable_data', 'no_secret'];

const BUF_IN = 0, BUF_SIG = 1, BUF_SECRETS = 2, BUF_OUT = 3;

export async function loadCore(file = 'build/obj/pw-core.wasm') {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), {});
  const x = instance.exports;
  const view = (which) => new Uint8Array(x.memory.buffer, x.pwx_buf(which), x.pwx_cap(which));
  const put = (which, bytes) => {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
    const v = view(which);
    if (b.length > v.length) throw new RangeError(`input of ${b.length} bytes over ${v.length}`);
    v.set(b);
    return b.length;
  };
  const out = (n) => Buffer.from(view(BUF_OUT).subarray(0, n));
  return {
    exports: x,
    memoryPages: () => x.memory.buffer.byteLength / 65536,
    setSecrets: (list) => x.pwx_set_secrets(put(BUF_SECRETS, list)),
    // body: Buffer; signature: string or null. Returns the status code name.
    handle(body, signature) {
      const n = put(BUF_IN, body);
      const s = signature === null ? -1 : put(BUF_SIG, signature);
      return STATUS[x.pwx_handle(n, s)];
    },
    response() {
      const n = x.pwx_response();
      return n < 0 ? null : JSON.parse(out(n).toString('utf8'));
    },
    // Inside of a JSON string literal -> Buffer, or null if refused.
    unescape(inside) {
      const n = x.pwx_unescape(put(BUF_IN, inside));
      return n < 0 ? null : out(n);
    },
    // Raw handles for the benchmark: inputs already in place.
    putBody: (b) => put(BUF_IN, b),
    putSig: (s) => put(BUF_SIG, s),
  };
}
