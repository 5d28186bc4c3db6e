#!/usr/bin/python3
"""Corpus regression test: `mlsc scan` on the picklescan and modelaudit sample corpora.

Usage: /usr/bin/python3 tests/integration/test_corpus.py --mlsc BIN --work DIR --shared SHARED

The corpora live in SHARED/corpora/<name>/files with a labels.json beside them (see
SHARED/corpora/README.md). Their files are live exploits: this test never deserialises them, only
mlsc reads them, and the test itself reads at most a few header bytes to recognise deferred formats.

For each corpus, one `BIN scan SHARED/corpora/<name>/files --format json`, then:
  - every file labelled `malicious` must be reported at high or critical;
  - no file labelled `benign` or `malformed` may have a high or critical finding;
  - files labelled `unknown` are listed, not asserted;
  - files of formats no scanner covers yet (see `deferred_format`) are listed as "deferred:
    format not yet scanned" and never fail the test. Keras HDF5, TensorFlow SavedModel,
    safetensors, GGUF, Jinja2 templates and JSON/YAML manifests are scanned and asserted;
  - files in KNOWN_DISAGREEMENTS are held to the outcome given there instead of their label.

Ends with `N passed, M failed`; exit status 0 only when nothing failed.
"""

import argparse
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sarif_check import catalogue, sarif_problems  # noqa: E402

from harness import Results

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

CORPORA = ('picklescan', 'modelaudit')
RANK = {s: i for i, s in enumerate(['none', 'info', 'low', 'medium', 'high', 'critical'])}
ALARM = RANK['high']

# Where mlsc deliberately differs from a corpus label. Key: "<corpus>/<file as in labels.json>".
#   outcome: "flagged" (max_severity high or critical) or "clean" (no high/critical finding)
#   rule:    optional; a finding with this rule id must be present (for "flagged")
#   reason:  why; docs/corpus-disagreements.md is written from these entries
KNOWN_DISAGREEMENTS = {
    'picklescan/files/data/benign_password_protected.zip': {
        'label': 'benign',
        'outcome': 'flagged',
        'rule': 'unscannable',
        'reason': 'The zip holds only an encrypted member (test.txt). mlsc cannot look inside an '
                  'encrypted member, so it cannot tell a harmless text file from an encrypted '
                  'pickle and reports the file `unscannable` at high, by design. picklescan '
                  'skips it silently.',
    },
    'modelaudit/files/samples/safetensors/malicious_import.safetensors': {
        'label': 'malicious',
        'outcome': 'clean',
        'rule': 'safetensors.metadata-code',
        'reason': 'The file is a well-formed safetensors file whose __metadata__ value is the text '
                  "\"import os; os.system('echo pwned')\". safetensors never executes metadata and "
                  'no loader evaluates it, so nothing runs when the model is loaded. mlsc reports '
                  'the code-like text at low (`safetensors.metadata-code`, found by tokenizing the '
                  'value as Python) instead of raising a high alarm on an inert string.',
    },
}

# Formats the scanners of this repository now cover (and no longer defer).
SCANNED_FORMATS = ('safetensors', 'jinja2-template', 'json-manifest', 'yaml-manifest')


def deferred_format(path):
    """The format of a file that a later issue will scan, or None. Decided by content (magic
    bytes, header structure, text syntax). Keras HDF5 and TensorFlow SavedModel files are scanned
    by mlsc now and are never deferred."""
    try:
        with open(path, 'rb') as f:
            head = f.read(65536)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return None
    if len(head) >= 10:
        (n,) = struct.unpack('<Q', head[:8])
        if 2 <= n <= size - 8 and head[8:9] == b'{':
            return 'safetensors'
    if b'\0' in head:
        return None
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        return None
    stripped = text.lstrip()
    if '{{' in text or '{%' in text:
        return 'jinja2-template'
    if stripped[:1] in ('{', '['):
        try:
            json.loads(text if size <= len(head) else stripped)
            return 'json-manifest'
        except ValueError:
            if size > len(head):
                return 'json-manifest'
    if any(line.split(':', 1)[0].strip().isidentifier() and ':' in line
           for line in text.splitlines()[:3]) and path.endswith(('.yaml', '.yml')):
        return 'yaml-manifest'
    return None



def describe(entry):
    if entry is None:
        return 'not in the report'
    fs = ', '.join(f'{x.get("severity")}:{x.get("rule")}' for x in entry.get('findings', [])[:6])
    return f'format={entry.get("format")} max={entry.get("max_severity")} findings=[{fs}]'


def is_flagged(entry):
    return entry is not None and RANK.get(entry.get('max_severity'), 0) >= ALARM


def has_high(entry):
    return entry is not None and any(RANK.get(x.get('severity'), 0) >= ALARM
                                     for x in entry.get('findings', []))


def scan_corpus(mlsc, name, corpus_dir, res):
    files_dir = os.path.join(corpus_dir, 'files')
    with open(os.path.join(corpus_dir, 'labels.json')) as f:
        labels = json.load(f)
    try:
        r = subprocess.run([mlsc, 'scan', files_dir, '--format', 'json'], capture_output=True,
                           text=True, errors='replace', timeout=600)
    except subprocess.TimeoutExpired:
        res.check(False, f'{name}: scan finishes within 600 s')
        return None
    res.check(r.returncode == 1, f'{name}: exit code 1 (the corpus holds findings)',
              f'rc={r.returncode} {r.stderr[-500:]}')
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        res.check(False, f'{name}: JSON report', str(e))
        return None
    sarif = subprocess.run([mlsc, 'scan', files_dir, '--format', 'sarif', '--min-severity', 'info'],
                           capture_output=True, text=True, errors='replace', timeout=600)
    try:
        problems = sarif_problems(json.loads(sarif.stdout), catalogue(mlsc))
    except ValueError as e:
        problems = [f'not JSON: {e}']
    res.check(not problems, f'{name}: SARIF log valid for code scanning, every rule catalogued',
              '\n      '.join(problems[:20]))
    by_file = {}
    for entry in doc.get('files', []):
        p = entry.get('path', '')
        if p.startswith(files_dir + '/'):
            by_file['files/' + p[len(files_dir) + 1:]] = entry
    res.check(len(doc.get('files', [])) >= len(labels), f'{name}: every labelled file is scanned',
              f'{len(doc.get("files", []))} reported, {len(labels)} labelled')
    crashed = [e.get('path') for e in doc.get('files', []) if e.get('error')]
    res.check(not crashed, f'{name}: no file is unreadable', ', '.join(crashed[:5]))

    stats = dict(mal=0, mal_hit=0, ben=0, ben_alarm=0, deferred=[], unknown=[], disagree=[])
    for lab in labels:
        rel = lab['file']
        key = f'{name}/{rel}'
        entry = by_file.get(rel)
        if not res.check(entry is not None, f'{key}: reported'):
            continue
        expected = lab['expected']
        if key in KNOWN_DISAGREEMENTS:
            d = KNOWN_DISAGREEMENTS[key]
            if d['outcome'] == 'flagged':
                ok = is_flagged(entry) and (not d.get('rule') or any(
                    x.get('rule') == d['rule'] for x in entry.get('findings', [])))
            else:
                ok = not has_high(entry) and (not d.get('rule') or any(
                    x.get('rule') == d['rule'] for x in entry.get('findings', [])))
            res.check(ok, f'{key}: known disagreement, expect {d["outcome"]}'
                          + (f' ({d["rule"]})' if d.get('rule') else ''), describe(entry))
            stats['disagree'].append((key, d['outcome'], ok))
            continue
        deferred = deferred_format(os.path.join(corpus_dir, rel))
        if deferred in SCANNED_FORMATS:
            deferred = None
        if deferred:
            stats['deferred'].append((rel, expected, deferred, entry))
            continue
        if expected == 'malicious':
            stats['mal'] += 1
            hit = is_flagged(entry)
            stats['mal_hit'] += hit
            res.check(hit, f'{key}: malicious flagged high/critical ({lab.get("why", "")[:80]})',
                      describe(entry))
        elif expected in ('benign', 'malformed'):
            stats['ben'] += 1
            alarm = has_high(entry)
            stats['ben_alarm'] += alarm
            res.check(not alarm, f'{key}: {expected}, no high/critical finding', describe(entry))
        else:
            stats['unknown'].append((rel, lab.get('why', ''), entry))
    print(f'{name}: detected {stats["mal_hit"]}/{stats["mal"]} malicious, false alarms '
          f'{stats["ben_alarm"]}/{stats["ben"]} benign+malformed, {len(stats["deferred"])} deferred, '
          f'{len(stats["unknown"])} unknown, {len(stats["disagree"])} known disagreements')
    for rel, expected, fmt, entry in stats['deferred']:
        outcome = 'flagged' if is_flagged(entry) else 'not flagged'
        print(f'  deferred: format not yet scanned ({fmt}): {rel} [{expected}, {outcome}]')
    for rel, why, entry in stats['unknown']:
        print(f'  unknown label (not asserted): {rel}: {describe(entry)}')
    return stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', default=os.path.join(ROOT, '..', 'shared'))
    args = ap.parse_args()
    res = Results()
    mlsc = os.path.abspath(args.mlsc)
    if not res.check(os.access(mlsc, os.X_OK), 'mlsc binary exists', mlsc):
        print(f'{res.passed} passed, {res.failed} failed')
        return 1
    totals = dict(mal=0, mal_hit=0, ben=0, ben_alarm=0)
    for name in CORPORA:
        corpus_dir = os.path.join(os.path.abspath(args.shared), 'corpora', name)
        if not res.check(os.path.exists(os.path.join(corpus_dir, 'labels.json')),
                         f'{name}: corpus present', corpus_dir):
            continue
        stats = scan_corpus(mlsc, name, corpus_dir, res)
        if stats:
            for k in totals:
                totals[k] += stats[k]
    print(f'all corpora: detected {totals["mal_hit"]}/{totals["mal"]} malicious, false alarms '
          f'{totals["ben_alarm"]}/{totals["ben"]} benign+malformed')
    print(f'{res.passed} passed, {res.failed} failed')
    return 0 if res.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
