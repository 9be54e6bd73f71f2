// deploy.test.mjs -- the scale-out files hold together: the SpinApp against
// the SpinApp CRD's own OpenAPI v3 schema (spinkube/spin-operator, read from
// ../shared/spinkube/, not copied here), and the Spin runtime configuration
// against the fields Spin's loader reads.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { parse as parseToml } from 'smol-toml';

const CRD = path.resolve('..', 'shared', 'spinkube', 'core.spinkube.dev_spinapps.yaml');
const plain = (v) => JSON.parse(JSON.stringify(v));

// Kubernetes prunes fields a structural schema does not name, silently: a
// misspelt field would vanish on apply. So the check refuses them, as
// `kubectl apply --validate=strict` does, except where the schema itself
// keeps unknown fields.
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) out[k] = strict(v);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

function spinAppValidator() {
  const crd = YAML.parse(fs.readFileSync(CRD, 'utf8'));
  assert.equal(crd.spec.names.kind, 'SpinApp');
  const version = crd.spec.versions.find((v) => v.served && v.storage);
  const schema = strict(version.schema.openAPIV3Schema);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);
  return { version: `${crd.spec.group}/${version.name}`, validate };
}

describe('SpinKube: deploy/spinkube/spinapp.yaml', { skip: !fs.existsSync(CRD) && `no ${CRD}` }, () => {
  const doc = YAML.parse(fs.readFileSync('deploy/spinkube/spinapp.yaml', 'utf8'));

  test('valid against the SpinApp CRD schema', () => {
    const { version, validate } = spinAppValidator();
    assert.equal(doc.apiVersion, version);
    assert.equal(doc.kind, 'SpinApp');
    const ok = validate(plain(doc));
    assert.ok(ok, JSON.stringify(validate.errors, null, 1));
  });

  test('the check can fail: a misspelt field and a wrong type are refused', () => {
    const { validate } = spinAppValidator();
    for (const bad of [
      { ...doc, spec: { ...doc.spec, replica: 2 } },
      { ...doc, spec: { ...doc.spec, replicas: 'two' } },
      { ...doc, spec: { ...doc.spec, image: undefined } },
      { ...doc, spec: { ...doc.spec, variables: [{ value: 'x' }] } },
    ]) {
      assert.equal(validate(plain(bad)), false, JSON.stringify(bad.spec).slice(0, 200));
    }
  });

  test('the secret comes from a Kubernetes Secret; default is a Redis store every replica shares', () => {
    const vars = Object.fromEntries(doc.spec.variables.map((v) => [v.name, v]));
    assert.deepEqual(vars.panora_webhook_secret.valueFrom.secretKeyRef, { name: 'panora-webhook', key: 'endpoint-secret' });
    assert.equal(vars.panora_webhook_secret.value, undefined, 'no secret in the manifest');
    const kv = doc.spec.runtimeConfig.keyValueStores;
    assert.deepEqual(kv.map((s) => [s.name, s.type]), [['default', 'redis']]);
    assert.deepEqual(kv[0].options.map((o) => o.name), ['url']);
    assert.ok(kv[0].options[0].valueFrom.secretKeyRef, 'the Redis URL (and its password) from the Secret');
    assert.ok(doc.spec.replicas > 1);
    // every variable the SpinApp binds is one the Spin manifest declares
    const manifest = plain(parseToml(fs.readFileSync('deploy/spin/spin.toml', 'utf8')));
    for (const name of Object.keys(vars)) assert.ok(manifest.variables[name], `${name} is declared in spin.toml`);
  });
});

describe('Spin runtime configuration: deploy/spin/runtime-config.toml', () => {
  // What Spin 3.0 to 4.0 read (spinframework/spin): `key_value_store` is a
  // table of labels, each a StoreConfig with `type` and the store's own
  // fields (crates/factor-key-value/src/runtime_config/spin.rs); the store
  // types Spin registers and their fields: redis { url }
  // (crates/key-value-redis/src/lib.rs), spin { path }
  // (crates/key-value-spin/src/lib.rs), azure_cosmos { key, account,
  // database, container } (crates/key-value-azure/src/lib.rs).
  const STORE_FIELDS = {
    redis: { required: ['url'], optional: [] },
    spin: { required: [], optional: ['path'] },
    azure_cosmos: { required: ['account', 'database', 'container'], optional: ['key'] },
  };
  const cfg = plain(parseToml(fs.readFileSync('deploy/spin/runtime-config.toml', 'utf8')));

  test('only tables Spin reads, and a Redis store Spin can make', () => {
    assert.deepEqual(Object.keys(cfg), ['key_value_store']);
    for (const [label, store] of Object.entries(cfg.key_value_store)) {
      const fields = STORE_FIELDS[store.type];
      assert.ok(fields, `${label}: store type ${store.type} is one Spin registers`);
      for (const f of fields.required) assert.equal(typeof store[f], 'string', `${label}.${f}`);
      for (const f of Object.keys(store)) {
        assert.ok(f === 'type' || fields.required.includes(f) || fields.optional.includes(f), `${label}: unknown field ${f}`);
      }
    }
    assert.equal(cfg.key_value_store.default.type, 'redis');
    assert.match(cfg.key_value_store.default.url, /^rediss?:\/\//);
  });
});
