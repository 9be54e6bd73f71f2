// fake-config.mjs -- wasi:config/store for tests under `jco serve`: the
// Spin variable panora_webhook_secret comes from PANORA_TEST_SPIN_SECRET.
export function get(key) {
  if (key === 'panora_webhook_secret') return process.env.PANORA_TEST_SPIN_SECRET;
  return undefined;
}
