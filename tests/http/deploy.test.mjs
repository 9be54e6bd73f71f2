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
    // the runtime configuration (its Redis URL and password) from a Secret,
    // made from deploy/spin/runtime-config.toml (checked below)
    assert.deepEqual(doc.spec.runtimeConfig, { loadFromSecret: 'panora-webhook-runtime-config' });
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

// The catch-up beside the webhook app: deploy/spin/catchup.toml (Spin's
// command trigger) and deploy/spinkube/catchup-cronjob.yaml, which must
// agree with the SpinApp and the runtime configuration on the Secrets, the
// Redis URL and the store name. agreement() lists every disagreement; the
// real files give none, and each planted mistake gives one.
const tomlOf = (f) => plain(parseToml(fs.readFileSync(f, 'utf8')));
const yamlOf = (f) => YAML.parse(fs.readFileSync(f, 'utf8'));
const headerOf = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');
const files = () => ({
  app: yamlOf('deploy/spinkube/spinapp.yaml'),
  appHeader: headerOf('deploy/spinkube/spinapp.yaml'),
  cron: yamlOf('deploy/spinkube/catchup-cronjob.yaml'),
  cronHeader: headerOf('deploy/spinkube/catchup-cronjob.yaml'),
  webhook: tomlOf('deploy/spin/spin.toml'),
  catchup: tomlOf('deploy/spin/catchup.toml'),
  runtime: tomlOf('deploy/spin/runtime-config.toml'),
});

function agreement({ app, appHeader, cron, cronHeader, webhook, catchup, runtime }) {
  const out = [];
  const need = (ok, what) => { if (!ok) out.push(what); };
  need(cron.apiVersion === 'batch/v1' && cron.kind === 'CronJob', 'a batch/v1 CronJob');
  need(cron.spec?.schedule === '*/5 * * * *', 'every 5 minutes');
  need(cron.spec?.concurrencyPolicy === 'Forbid', 'concurrencyPolicy Forbid');
  const pod = cron.spec?.jobTemplate?.spec?.template?.spec ?? {};
  need(pod.runtimeClassName === 'wasmtime-spin-v2', 'the Spin shim runtime class');
  need(['Never', 'OnFailure'].includes(pod.restartPolicy), 'a Job restart policy');
  const c = pod.containers?.[0] ?? {};
  need(pod.containers?.length === 1 && JSON.stringify(c.command) === '["/"]', 'one container, command "/" as spin-operator sets it');
  // the API key: the Secret the SpinApp takes its endpoint secret from
  const appSecret = app.spec.variables.find((v) => v.name === 'panora_webhook_secret')?.valueFrom?.secretKeyRef?.name;
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
  const key = env.PANORA_API_KEY;
  need(key?.valueFrom?.secretKeyRef?.name === appSecret && key?.value === undefined, `the API key from the Secret ${appSecret}`);
  need(appHeader.includes(`--from-literal=${key?.valueFrom?.secretKeyRef?.key}=`), 'the API key is a key the SpinApp header puts in the Secret');
  for (const name of Object.keys(env)) {
    const v = catchup.variables?.[name.toLowerCase()];
    need(v, `${name} names a variable catchup.toml declares`);
    if (v?.secret) need(env[name].value === undefined, `${name} is a secret: from a Secret`);
  }
  // the runtime configuration, hence the Redis URL: one Secret, mounted
  // where the shim reads it
  const rcSecret = app.spec.runtimeConfig?.loadFromSecret;
  const vol = (pod.volumes ?? []).find((v) => v.secret?.secretName === rcSecret);
  need(rcSecret && vol, `the runtime configuration from the SpinApp's Secret ${rcSecret}`);
  const mount = (c.volumeMounts ?? []).find((m) => m.name === vol?.name);
  need(mount?.mountPath === '/runtime-config.toml' && mount?.subPath === 'runtime-config.toml'
    && JSON.stringify(vol?.secret?.items) === '[{"key":"runtime-config.toml","path":"runtime-config.toml"}]',
  'mounted at /runtime-config.toml');
  need(appHeader.includes(`create secret generic ${rcSecret}`) && appHeader.includes('--from-file=runtime-config.toml=')
    && appHeader.includes('deploy/spin/runtime-config.toml'), 'the runtime Secret is made from deploy/spin/runtime-config.toml');
  need(cronHeader.includes(rcSecret ?? '-'), 'the CronJob header names the runtime Secret');
  // the store: `default` everywhere, Redis in the runtime configuration
  for (const [what, m] of [['spin.toml', webhook], ['catchup.toml', catchup]]) {
    const comps = Object.values(m.component ?? {});
    need(comps.length === 1 && JSON.stringify(comps[0].key_value_stores) === '["default"]', `${what} uses the store default`);
  }
  need(Object.keys(runtime.key_value_store ?? {}).join() === 'default' && runtime.key_value_store.default.type === 'redis'
    && /^rediss?:\/\//.test(runtime.key_value_store.default.url), 'the runtime configuration backs default with Redis');
  // the image the CronJob runs is the catch-up app the header pushes
  need(cronHeader.includes(`spin registry push -f deploy/spin/catchup.toml ${c.image}`), 'the header pushes the image it runs');
  need(cronHeader.includes('kubectl apply -f deploy/spinkube/catchup-cronjob.yaml') && cronHeader.includes('make'),
    'the header builds and applies');
  return out;
}

describe('the catch-up on Spin and SpinKube', () => {
  test('catchup.toml: the command trigger, the catch-up component, the default store, both origins from variables', () => {
    const m = tomlOf('deploy/spin/catchup.toml');
    const webhook = tomlOf('deploy/spin/spin.toml');
    assert.equal(m.spin_manifest_version, 2);
    assert.deepEqual(Object.keys(m.trigger), ['command']);
    // trigger-command's CommandTriggerConfig: `component` only (deny_unknown_fields)
    assert.deepEqual(m.trigger.command.map((t) => Object.keys(t)), [['component']]);
    const comp = m.component[m.trigger.command[0].component];
    assert.equal(path.resolve('deploy/spin', comp.source), path.resolve('build/panora-webhook-catchup-spin.wasm'));
    assert.ok(fs.existsSync(path.resolve('deploy/spin', comp.source)), comp.source);
    assert.deepEqual(comp.key_value_stores, ['default']);
    assert.deepEqual(comp.allowed_outbound_hosts, ['{{ panora_api_origin }}', '{{ panora_webhook_forward_origin }}']);
    assert.deepEqual(m.variables.panora_api_key, { required: true, secret: true });
    assert.equal(m.variables.panora_api_url.default, '', 'empty: the component\'s default URL');
    assert.equal(m.variables.panora_api_origin.default, 'https://api.panora.dev');
    for (const [name, value] of Object.entries(comp.variables)) {
      assert.equal(value, `{{ ${name} }}`);
      assert.ok(m.variables[name], `${name} is declared`);
    }
    // the forward exactly as the webhook app has it
    const fwd = (vars) => Object.keys(vars).filter((n) => n.startsWith('panora_webhook_forward_')).sort();
    assert.deepEqual(fwd(comp.variables), fwd(webhook.component['panora-webhook'].variables));
    assert.deepEqual(fwd(m.variables), fwd(webhook.variables));
    for (const n of fwd(m.variables)) assert.deepEqual(m.variables[n], webhook.variables[n], n);
  });

  test('the CronJob, the SpinApp and the runtime configuration agree', () => {
    assert.deepEqual(agreement(files()), []);
  });

  test('the check can fail: each planted disagreement is reported', () => {
    const f = files();
    const pod = (x) => x.cron.spec.jobTemplate.spec.template.spec;
    const change = (edit) => { const x = structuredClone(f); edit(x); return agreement(x); };
    const mutants = {
      'another Secret for the key': (x) => { pod(x).containers[0].env[0].valueFrom.secretKeyRef.name = 'panora-catchup'; },
      'the key in the manifest': (x) => { pod(x).containers[0].env[0] = { name: 'PANORA_API_KEY', value: 'pk_live' }; },
      'another runtime Secret (another Redis URL)': (x) => { pod(x).volumes[0].secret.secretName = 'other-runtime-config'; },
      'the SpinApp on its own store config': (x) => { x.app.spec.runtimeConfig = { loadFromSecret: 'panora-webhook-rc2' }; },
      'mounted elsewhere': (x) => { pod(x).containers[0].volumeMounts[0].mountPath = '/etc/runtime-config.toml'; },
      'a store named otherwise': (x) => { x.catchup.component['panora-webhook-catchup'].key_value_stores = ['catchup']; },
      'default not on Redis': (x) => { x.runtime.key_value_store.default = { type: 'spin' }; },
      'overlapping runs': (x) => { x.cron.spec.concurrencyPolicy = 'Allow'; },
      'hourly': (x) => { x.cron.spec.schedule = '0 * * * *'; },
      'not the Spin shim': (x) => { delete pod(x).runtimeClassName; },
      'a variable catchup.toml lacks': (x) => { pod(x).containers[0].env.push({ name: 'PANORA_API_TOKEN', value: 'x' }); },
      'a header without the push': (x) => { x.cronHeader = x.cronHeader.replace('spin registry push', 'spin build'); },
    };
    for (const [name, edit] of Object.entries(mutants)) {
      assert.notDeepEqual(change(edit), [], name);
    }
  });
});
