// run.mjs -- `make mutate`: apply each mutant of mutants.mjs, one at a time,
// to a scratch copy of the project, and run the suites that ought to catch
// it. Every mutant must be killed (a suite fails); an entry whose original
// text is not found exactly once is stale. Prints `N/N mutants killed` and
// exits 1 on any survivor or stale entry.
//
//   node tests/mutate/run.mjs [substring ...]   only the mutants whose `why`
//                                                holds one of them
//
// The copy holds the tracked files and the current build/ (so only what a
// mutant touches is rebuilt), with node_modules linked; the fuzzers are not
// run. Each suite has a time bound; a hang counts as a kill only if it is
// the suite's own deadline that ends it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mutants } from './mutants.mjs';

const NODE_TEST = 'node --disable-warning=ExperimentalWarning --test --test-timeout=120000';
const UNIT = fs.readdirSync('tests/unit').filter((f) => /^test_.*\.c$/.test(f)).map((f) => `build/tests/${f.slice(0, -2)}`);
// Each suite: what it builds (a mutant that does not build is invalid, not
// killed), then what it runs.
const SUITES = {
  unit: { build: `make -s ${UNIT.join(' ')}`, run: UNIT.join(' && ') },
  wagi: {
    build: 'make -s build/panora-webhook.wasm build/obj/panora-webhook.debug.wasm build/vectors/cases.json',
    run: `${NODE_TEST} tests/wasm/wagi.test.mjs`,
  },
  component: { build: 'make -s host build/panora-webhook.wasm build/vectors/cases.json', run: `${NODE_TEST} tests/host/component.test.mjs` },
  http: { build: 'make -s all build/vectors/cases.json', run: `${NODE_TEST} --test-concurrency=1 tests/http/` },
  diff: { build: 'make -s build/obj/pw-core.wasm build/vectors/cases.json', run: `${NODE_TEST} tests/wasm/differential.test.mjs` },
  forward: { build: 'make -s all', run: `${NODE_TEST} tests/http/forward.test.mjs` },
  host: { build: 'make -s host build/panora-webhook.wasm', run: `${NODE_TEST} tests/host/faults.test.mjs tests/host/logs.test.mjs` },
  ct: { build: 'make -s build/ct/ct_check build/ct/ct_check_early_exit', run: 'make -s ct-check' },
  catchup: {
    build: 'make -s build/panora-webhook-catchup.wasm build/panora-webhook-catchup-spin.wasm build/host/catcher.js',
    run: `${NODE_TEST} tests/catchup/`,
  },
};

const root = process.cwd();
const only = process.argv.slice(2);
const chosen = mutants.filter((m) => only.length === 0 || only.some((o) => m.why.includes(o)));

// The scratch copy.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-mutate-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
for (const f of files) {
  if (!fs.existsSync(f)) continue;
  fs.mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
  fs.copyFileSync(f, path.join(dir, f));
  fs.utimesSync(path.join(dir, f), fs.statSync(f).atime, fs.statSync(f).mtime);
}
spawnSync('cp', ['-a', 'build', path.join(dir, 'build')]);
fs.rmSync(path.join(dir, 'build/serve'), { recursive: true, force: true });
fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));

const run = (cmd) => spawnSync('sh', ['-c', cmd], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60 * 1000 });

// The unmutated copy must pass what the mutants will be judged by.
const needed = [...new Set(chosen.flatMap((m) => m.suites))];
for (const s of needed) {
  const r = run(`${SUITES[s].build} && ${SUITES[s].run}`);
  if (r.status !== 0) {
    console.error(`mutate: suite ${s} fails without any mutant:\n${r.stdout}\n${r.stderr}`.slice(-4000));
    process.exit(1);
  }
}

let killed = 0;
const survivors = [];
const stale = [];
const invalid = [];
for (const [i, m] of chosen.entries()) {
  const file = path.join(dir, m.file);
  const original = fs.readFileSync(file, 'utf8');
  const at = original.split(m.from).length - 1;
  const label = `${String(i + 1).padStart(2)} ${m.file}: ${m.why}`;
  if (at !== 1) {
    stale.push(m);
    console.log(`${label}: STALE (the original text occurs ${at} times)`);
    continue;
  }
  fs.writeFileSync(file, original.replace(m.from, m.to));
  let by = null;
  let broken = false;
  const t0 = Date.now();
  for (const s of m.suites) {
    if (run(SUITES[s].build).status !== 0) { broken = true; break; }
    if (run(SUITES[s].run).status !== 0) { by = s; break; }
  }
  fs.writeFileSync(file, original);
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (broken) {
    invalid.push(m);
    console.log(`${label}: DOES NOT BUILD (fix the entry)`);
  } else if (by) {
    killed++;
    console.log(`${label}: killed by ${by} (${secs} s)`);
  } else {
    survivors.push(m);
    console.log(`${label}: SURVIVED ${m.suites.join(', ')} (${secs} s)`);
  }
}

console.log(`\n${killed}/${chosen.length} mutants killed${stale.length ? `, ${stale.length} stale` : ''}${invalid.length ? `, ${invalid.length} do not build` : ''}${survivors.length ? `, ${survivors.length} survived` : ''}`);
process.exit(survivors.length === 0 && stale.length === 0 && invalid.length === 0 ? 0 : 1);
