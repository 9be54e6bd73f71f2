// fake-config.mjs -- wasi:config/store for tests under `jco serve` and
// `jco run`: the Spin variable panora_webhook_<name> comes from
// PANORA_TEST_SPIN_<NAME> (panora_webhook_secret from
// PANORA_TEST_SPIN_SECRET, ...), and panora_<name> from the same
// (panora_api_key from PANORA_TEST_SPIN_API_KEY).
export function get(key) {
  const m = /^panora_(?:webhook_)?([a-z_]+)$/.exec(key);
  return m ? process.env[`PANORA_TEST_SPIN_${m[1].toUpperCase()}`] : undefined;
}
