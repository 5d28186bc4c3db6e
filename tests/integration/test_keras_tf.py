#!/usr/bin/python3
"""End-to-end test of `mlsc scan` on Keras (.h5, .keras, model JSON) and TensorFlow SavedModel
(saved_model.pb, keras_metadata.pb) fixtures.

Usage: /usr/bin/python3 tests/integration/test_keras_tf.py --mlsc BIN --work DIR [--shared SHARED]

1. Writes the fixtures with tests/fixtures/make_keras_tf_fixtures.py into DIR/fixtures (h5py,
   zipfile and protobuf writers; Lambda payloads proven by running them the way Keras's
   func_load does, TorchModuleWrapper payloads by torch.load; see that script).
2. Runs `BIN scan DIR/fixtures --format json` and checks, per fixture in the manifest:
   - malicious: max_severity high or critical, every listed rule reported, and the layer or node
     path named in some finding's member (proven and unproven fixtures are counted apart);
   - benign: no high or critical finding;
   - suspicious: every listed rule reported, nothing above what the rule is for;
   - malformed: an `unscannable` finding, and no crash or I/O error;
   - the format mlsc names.
Prints `detected X/Y malicious, false alarms Z/W benign` and ends with `N passed, M failed`.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from harness import Results

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAKER = os.path.join(ROOT, 'tests', 'fixtures', 'make_keras_tf_fixtures.py')
PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
RANK = {s: i for i, s in enumerate(['none', 'info', 'low', 'medium', 'high', 'critical'])}



def describe(entry):
    if entry is None:
        return 'not in the report'
    fs = '; '.join(f'{x["severity"]}:{x["rule"]}@{x.get("member")}' for x in entry['findings'][:8])
    return f'format={entry["format"]} max={entry["max_severity"]} findings=[{fs}]'


def scan(mlsc, target):
    t0 = time.monotonic()
    r = subprocess.run([mlsc, 'scan', target, '--format', 'json'], capture_output=True, text=True,
                       errors='replace', timeout=600)
    return r, time.monotonic() - t0


def check_fixture(res, m, entry, stats):
    name = m['file']
    if not res.check(entry is not None, f'{name}: reported'):
        return
    res.check(not entry.get('io_error'), f'{name}: readable', entry.get('io_error', ''))
    res.check(entry['format'] == m['format'], f'{name}: format {m["format"]}', describe(entry))
    rules = {x['rule'] for x in entry['findings']}
    missing = [r for r in m['rules'] if r not in rules]
    worst = RANK[entry['max_severity']]
    if m['expected'] == 'malicious':
        hit = worst >= RANK['high'] and not missing
        stats['mal'] += 1
        stats['mal_hit'] += hit
        stats['proven' if m['proven'] else 'unproven'] += 1
        res.check(hit, f'{name}: malicious flagged high/critical with {m["rules"]}', describe(entry))
    elif m['expected'] == 'benign':
        stats['ben'] += 1
        alarm = worst >= RANK['high']
        stats['ben_alarm'] += alarm
        res.check(not alarm, f'{name}: benign, no high/critical finding', describe(entry))
    elif m['expected'] == 'suspicious':
        res.check(not missing, f'{name}: suspicious, reports {m["rules"]}', describe(entry))
    elif m['expected'] == 'malformed':
        res.check('unscannable' in rules and worst >= RANK['high'],
                  f'{name}: malformed, reported unscannable', describe(entry))
    if m.get('path'):
        members = [x.get('member') or '' for x in entry['findings'] if x['rule'] in m['rules']]
        res.check(any(m['path'] in mem for mem in members),
                  f'{name}: finding member names the path {m["path"]}', str(members[:4]))
        messages = [x['message'] for x in entry['findings'] if x['rule'] in m['rules']]
        leaf = m['path'].split('/')[-1]
        res.check(any(leaf in msg for msg in messages) or m['path'] == 'assets',
                  f'{name}: finding message names {leaf}', str([s[:120] for s in messages[:2]]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', default=None)
    args = ap.parse_args()
    res = Results()
    mlsc = os.path.abspath(args.mlsc)
    fixtures = os.path.join(os.path.abspath(args.work), 'fixtures')
    os.makedirs(fixtures, exist_ok=True)
    r = subprocess.run([PYTHON, MAKER, fixtures], capture_output=True, text=True, timeout=900)
    print(r.stdout.strip())
    if not res.check(r.returncode == 0, 'fixtures written and proven', r.stderr[-2000:]):
        print(f'{res.passed} passed, {res.failed} failed')
        return 1
    with open(os.path.join(fixtures, 'manifest.json')) as f:
        manifest = json.load(f)
    for m in manifest:
        if m['expected'] == 'malicious' and m['proof'].startswith('marker'):
            res.check(m['proven'], f'{m["file"]}: payload proven', m['proof'])

    r, seconds = scan(mlsc, fixtures)
    res.check(r.returncode == 1, 'scan exits 1 (findings)', f'rc={r.returncode} {r.stderr[-400:]}')
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        res.check(False, 'JSON report', str(e))
        print(f'{res.passed} passed, {res.failed} failed')
        return 1
    by_file = {e['path'][len(fixtures) + 1:]: e for e in doc['files']
               if e['path'].startswith(fixtures + '/')}
    stats = dict(mal=0, mal_hit=0, ben=0, ben_alarm=0, proven=0, unproven=0)
    for m in manifest:
        check_fixture(res, m, by_file.get(m['file']), stats)

    # The benign-only folders scan clean end to end (exit code 0 at the default threshold).
    r, _ = scan(mlsc, os.path.join(fixtures, 'benign'))
    res.check(r.returncode == 0, 'benign folder exits 0', r.stdout[-600:])
    # The sandboxed libhdf5 gives the same answer every time.
    first, _ = scan(mlsc, os.path.join(fixtures, 'malicious', 'keras2_lambda_system.h5'))
    again, _ = scan(mlsc, os.path.join(fixtures, 'malicious', 'keras2_lambda_system.h5'))
    same = [json.loads(x.stdout)['files'] for x in (first, again)]
    res.check(same[0] == same[1], 'HDF5 scan is deterministic', str(same)[:600])
    res.check(seconds < 120, f'fixture folder scanned in {seconds:.1f} s (< 120 s)')

    print(f'detected {stats["mal_hit"]}/{stats["mal"]} malicious ({stats["proven"]} proven by '
          f'their loader or its exact emulation, {stats["unproven"]} unproven: Keras/TensorFlow '
          f'not in Debian), false alarms {stats["ben_alarm"]}/{stats["ben"]} benign')
    print(f'{res.passed} passed, {res.failed} failed')
    return 0 if res.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
