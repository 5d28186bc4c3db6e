#!/usr/bin/env python3
"""Runs the end-to-end provenance example (examples/provenance-pipeline/run.sh) against the built
mlsc and checks what it must show: the model admitted, then, after one dataset file is altered,
the dataset failing verification with that file named, the model rejected because of the
dataset, and `mlsc graph affected --by dataset:regression` naming the model's digest."""
import argparse
import base64
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, '..', '..', 'examples', 'provenance-pipeline', 'run.sh')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', required=True)
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    r = subprocess.run([SCRIPT, args.mlsc, work], capture_output=True, text=True, timeout=900)
    out = r.stdout + r.stderr
    failures = []
    checks = []

    def check(ok, what):
        print(('PASS ' if ok else 'FAIL ') + what)
        checks.append(what)
        if not ok:
            failures.append(what)

    check(r.returncode == 0, f'run.sh exits 0 (got {r.returncode})')
    before, _, after = out.partition('== 8.')
    check('ADMIT   model' in before and 'REJECT' not in before, 'model admitted before the change')
    check(re.search(r'changed\s+train/part-1\.csv', after) is not None,
          'dataset verify names the altered file')
    check('REJECT  model' in after and 'part-1.csv' in after.split('== 10.')[0],
          'admission rejects the model, naming the altered dataset file')
    # The model's digest, from its signature, must be among the nodes affected by the dataset.
    sig = json.load(open(os.path.join(work, 'model.sig')))
    rows = subprocess.run([args.mlsc, 'graph', 'affected', '--by', 'dataset:regression', '--db',
                           os.path.join(work, 'graph.db'), '--format', 'json'],
                          capture_output=True, text=True)
    check(rows.returncode == 0, 'graph affected answers')
    affected = json.dumps(json.loads(rows.stdout)) if rows.returncode == 0 else ''
    payload = sig.get('dsseEnvelope', {}).get('payload', '')
    statement = json.loads(base64.b64decode(payload)) if payload else {}
    model_digest = statement.get('subject', [{}])[0].get('digest', {}).get('sha256', '')
    check(model_digest != '' and model_digest in affected,
          f'affected --by dataset:regression names the model sha256:{model_digest[:16]}...')
    if failures:
        print(out[-6000:])
    print(f'{len(checks) - len(failures)} passed, {len(failures)} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
