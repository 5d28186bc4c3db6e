#!/usr/bin/python3
"""End-to-end test of the safetensors, GGUF, chat-template and Hugging Face repository scanners.

Usage: /usr/bin/python3 tests/integration/test_formats_a.py --mlsc BIN --work DIR [--shared SHARED]

1. Generates DIR/fixtures with tests/fixtures/make_format_fixtures_a.py (see its docstring: real
   producers where Debian has them, hand-built hostile files, every malicious template proven by
   rendering it with jinja2's default Environment, remote code proven by importing it).
2. Runs `BIN scan DIR/fixtures --format json` once and checks, per fixture in the manifest:
   - every rule listed for it is reported;
   - benign fixtures have no high or critical finding;
   - malicious fixtures are proven (their payload ran under the real loader) and flagged
     high/critical;
   - the tokenizer skips strings and comments: the plain remote-code module is reported for
     needing trust_remote_code, with no process/exec/network findings.
3. Checks that a hub cache symlink leading outside the cache is reported and not opened.

Prints per-format detections and false alarms, and ends with `N passed, M failed`.
"""

import argparse
import json
import os
import subprocess
import sys

from harness import Results

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAKE = os.path.join(ROOT, 'tests', 'fixtures', 'make_format_fixtures_a.py')
PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
RANK = {s: i for i, s in enumerate(['none', 'info', 'low', 'medium', 'high', 'critical'])}



def describe(entry):
    if entry is None:
        return 'not in the report'
    fs = ', '.join(f'{x["severity"]}:{x["rule"]}' for x in entry.get('findings', [])[:10])
    return f'format={entry.get("format")} max={entry.get("max_severity")} [{fs}]'


def worst(entry):
    return max((RANK[x['severity']] for x in entry.get('findings', [])), default=0)


def fmt_of(rel):
    if rel.startswith('hf/'):
        return 'hf'
    if rel.endswith('.gguf'):
        return 'gguf'
    if rel.endswith('.safetensors'):
        return 'safetensors'
    return 'jinja'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared')
    args = ap.parse_args()
    res = Results()
    fixtures = os.path.join(os.path.abspath(args.work), 'fixtures')
    os.makedirs(args.work, exist_ok=True)
    r = subprocess.run([PYTHON, MAKE, fixtures], capture_output=True, text=True, timeout=600)
    if not res.check(r.returncode == 0, 'fixtures generated', r.stderr[-2000:]):
        print(f'{res.passed} passed, {res.failed} failed')
        return 1
    with open(os.path.join(fixtures, 'manifest.json')) as f:
        manifest = json.load(f)
    r = subprocess.run([os.path.abspath(args.mlsc), 'scan', fixtures, '--format', 'json'],
                       capture_output=True, text=True, timeout=600, errors='replace')
    res.check(r.returncode == 1, 'exit code 1 (findings present)', f'rc={r.returncode} {r.stderr[-300:]}')
    doc = json.loads(r.stdout)
    by = {e['path'][len(fixtures) + 1:]: e for e in doc['files'] if e['path'].startswith(fixtures + '/')}
    stats = {}
    for rel, spec in sorted(manifest['fixtures'].items()):
        entry = by.get(rel)
        if not res.check(entry is not None, f'{rel}: reported'):
            continue
        rules = {x['rule'] for x in entry['findings']}
        for rule in spec['rules']:
            res.check(rule in rules, f'{rel}: reports {rule}', describe(entry))
        s = stats.setdefault(fmt_of(rel), dict(mal=0, hit=0, ben=0, alarm=0, hostile=0))
        if spec['kind'] == 'benign':
            s['ben'] += 1
            s['alarm'] += worst(entry) >= RANK['high']
            res.check(worst(entry) < RANK['high'], f'{rel}: benign, no high/critical', describe(entry))
        elif spec['kind'] == 'malicious':
            s['mal'] += 1
            s['hit'] += worst(entry) >= RANK['high']
            if manifest['jinja2'] or fmt_of(rel) == 'hf':
                res.check(spec['proven'] is True, f'{rel}: payload proven under the real loader')
            res.check(worst(entry) >= RANK['high'], f'{rel}: malicious, flagged high/critical', describe(entry))
        elif spec['kind'] == 'hostile':
            s['hostile'] += 1
    plain = by.get('hf/local_plain_code/config.json')
    if plain:
        code_rules = [x['rule'] for x in plain['findings'] if x['rule'].startswith('hf.remote-code-')]
        res.check(not code_rules, 'strings, comments and methods named eval are not primitives', str(code_rules))
    leak = [e for p, e in by.items() if p.endswith('/leak.txt')]
    res.check(bool(leak) and leak[0]['format'] == 'hf-cache-link', 'escaping cache link is not opened',
              describe(leak[0] if leak else None))
    sandbox = [(k, v['sandbox']) for k, v in manifest['fixtures'].items()
               if k.endswith('.jinja') and v['kind'] == 'malicious']
    blocked = sum(1 for _, s in sandbox if s == 'blocked')
    print(f'jinja2 ImmutableSandboxedEnvironment blocks {blocked}/{len(sandbox)} proven payloads (informational)')
    for name, s in sorted(stats.items()):
        print(f'{name}: detected {s["hit"]}/{s["mal"]} malicious, false alarms {s["alarm"]}/{s["ben"]} '
              f'benign, {s["hostile"]} hostile structure fixtures')
    print(f'{res.passed} passed, {res.failed} failed')
    return 0 if res.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
