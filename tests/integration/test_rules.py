"""The rule catalogue: `mlsc rules` lists well-formed entries, and docs/rules.md is exactly what
`mlsc rules --format markdown` prints (edit data/rules/*.yaml, then regenerate the doc)."""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sarif_check import catalogue  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SEVERITIES = {'info', 'low', 'medium', 'high', 'critical'}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared')
    args = ap.parse_args()
    failures = []
    rules = catalogue(args.mlsc)
    if len(rules) < 20:
        failures.append(f'only {len(rules)} rules in the catalogue')
    for rid, r in rules.items():
        if r['severity'] not in SEVERITIES:
            failures.append(f'{rid}: severity {r["severity"]}')
        if not r['name'][:1].isupper() or ' ' in r['name']:
            failures.append(f'{rid}: name {r["name"]!r} is not PascalCase')
    md = subprocess.run([args.mlsc, 'rules', '--format', 'markdown'], capture_output=True,
                        text=True, check=True).stdout
    with open(os.path.join(ROOT, 'docs', 'rules.md')) as f:
        if f.read() != md:
            failures.append('docs/rules.md is stale: run `mlsc rules --format markdown > docs/rules.md`')
    for f in failures:
        print('FAIL', f)
    print(f'{len(rules)} rules; {len(failures)} problems')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
