// fake-config.mjs -- wasi:config/store for tests under `jco serve`: the
// Spin variable panora_webhook_<name> comes from PANORA_TEST_SPIN_<NAME>
// (panora_webhook_secret from PANORA_TEST_SPIN_SECRET, ...).
export function get(key) {
  const m = /^panora_webhook_([a-z_]+)$/.exec(key);
  return m ? process.env[`PANORA_TEST_SPIN_${m[1].toUpperCase()}`] : undefined;
}
