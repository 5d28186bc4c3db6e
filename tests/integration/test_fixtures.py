#!/usr/bin/python3
"""End-to-end test of `mlsc scan` against real-artefact fixtures.

Usage: /usr/bin/python3 tests/integration/test_fixtures.py --mlsc BIN --work DIR [--shared SHARED]

1. Generates the fixtures into DIR/fixtures with tests/fixtures/make_fixtures.py (idempotent: an
   up-to-date folder is reused). Every malicious fixture there is proven to run its payload under
   the real loader (pickle, torch, joblib, numpy, ...); every benign one loads cleanly.
2. Runs `BIN scan DIR/fixtures --format json` and checks:
   - the JSON shape of the report (files[], summary{}, findings[], imports[]);
   - every fixture appears once, under the path "argument joined with the path below it";
   - every *proven* malicious fixture has max_severity high or critical;
   - no benign fixture has a high or critical finding;
   - the format mlsc names for each fixture.
3. Checks the exit codes (1 with findings, 0 on the benign-only folder, 2 on a missing path or a bad
   flag), --fail-on at every threshold, and --format text.

Prints `detected X/Y malicious, false alarms Z/W benign` and ends with `N passed, M failed`.
Exit status 0 only when nothing failed.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sarif_check import catalogue, sarif_problems  # noqa: E402

from harness import Results

ROOT = os.path.dirname(os.path.dirname(HERE))
MAKE_FIXTURES = os.path.join(ROOT, 'tests', 'fixtures', 'make_fixtures.py')
PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable

SEVERITIES = ['none', 'info', 'low', 'medium', 'high', 'critical']
RANK = {s: i for i, s in enumerate(SEVERITIES)}
ALARM = RANK['high']

# Formats whose name mlsc may reasonably choose either way: the outermost container, or what it
# holds. The key is the manifest's `format`.
FORMAT_ALTERNATIVES = {
    'joblib': {'joblib', 'pickle'},
    'zlib': {'zlib', 'joblib'},
    'gzip': {'gzip', 'joblib', 'tar', 'pickle'},
    'bz2': {'bz2', 'bzip2', 'joblib'},
    'lzma': {'lzma', 'joblib'},
    'xz': {'xz', 'joblib'},
}



def run_mlsc(mlsc, args, cwd=None, timeout=600):
    try:
        r = subprocess.run([mlsc] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           errors='replace')
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired:
        return None, '', f'timed out after {timeout}s'
    except OSError as e:
        return None, '', str(e)


def parse_json(text):
    try:
        return json.loads(text), None
    except ValueError as e:
        return None, str(e)


def shape_problems(doc):
    """Problems with the report's JSON shape (empty list when it follows the contract)."""
    p = []
    if not isinstance(doc, dict):
        return ['top level is not an object']
    if not isinstance(doc.get('files'), list):
        p.append('"files" is not a list')
    if not isinstance(doc.get('summary'), dict):
        p.append('"summary" is not an object')
    for f in doc.get('files') or []:
        where = f.get('path', '?') if isinstance(f, dict) else '?'
        if not isinstance(f, dict):
            p.append('a files[] entry is not an object')
            continue
        for key, typ in (('path', str), ('format', str), ('max_severity', str), ('findings', list),
                         ('imports', list)):
            if not isinstance(f.get(key), typ):
                p.append(f'{where}: "{key}" missing or not {typ.__name__}')
        if f.get('max_severity') not in RANK:
            p.append(f'{where}: max_severity {f.get("max_severity")!r} is not a severity')
        if isinstance(f.get('format'), str) and not f['format']:
            p.append(f'{where}: empty format')
        worst = 'none'
        for x in f.get('findings') or []:
            if not isinstance(x, dict):
                p.append(f'{where}: a finding is not an object')
                continue
            if x.get('severity') not in RANK or x.get('severity') == 'none':
                p.append(f'{where}: finding severity {x.get("severity")!r}')
            elif RANK[x['severity']] > RANK[worst]:
                worst = x['severity']
            for key in ('rule', 'message'):
                if not isinstance(x.get(key), str) or not x.get(key):
                    p.append(f'{where}: finding "{key}" missing or empty')
            if 'member' in x and not isinstance(x['member'], (str, type(None))):
                p.append(f'{where}: finding "member" is not a string')
            if 'offset' in x and not (x['offset'] is None or isinstance(x['offset'], int)):
                p.append(f'{where}: finding "offset" is not an integer or null')
        if f.get('max_severity') in RANK and f['max_severity'] != worst:
            p.append(f'{where}: max_severity {f["max_severity"]} but the worst finding is {worst}')
        for i in f.get('imports') or []:
            if not isinstance(i, dict):
                p.append(f'{where}: an import is not an object')
                continue
            for key in ('module', 'name', 'verdict'):
                if not isinstance(i.get(key), str):
                    p.append(f'{where}: import "{key}" missing or not a string')
            if 'member' in i and not isinstance(i['member'], (str, type(None))):
                p.append(f'{where}: import "member" is not a string')
            if 'offset' in i and not (i['offset'] is None or isinstance(i['offset'], int)):
                p.append(f'{where}: import "offset" is not an integer')
    return p


def high_findings(entry):
    return [x for x in entry.get('findings', []) if RANK.get(x.get('severity'), 0) >= ALARM]


def describe(entry):
    if entry is None:
        return 'not in the report'
    fs = ', '.join(f'{x.get("severity")}:{x.get("rule")}' for x in entry.get('findings', [])[:6])
    return f'format={entry.get("format")} max={entry.get("max_severity")} findings=[{fs}]'


def report_max(doc):
    worst = 'none'
    for f in doc.get('files', []):
        s = f.get('max_severity', 'none')
        if RANK.get(s, 0) > RANK[worst]:
            worst = s
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', default=os.path.join(ROOT, '..', 'shared'))
    args = ap.parse_args()
    res = Results()
    mlsc = os.path.abspath(args.mlsc)
    work = os.path.abspath(args.work)
    fixtures = os.path.join(work, 'fixtures')
    os.makedirs(work, exist_ok=True)

    if not os.access(mlsc, os.X_OK):
        res.check(False, 'mlsc binary exists', mlsc)
        print(f'{res.passed} passed, {res.failed} failed')
        return 1

    # ---- 1. fixtures ----------------------------------------------------------------------
    r = subprocess.run(['nice', '-n', '5', PYTHON, MAKE_FIXTURES, fixtures], capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    if not res.check(r.returncode == 0, 'make_fixtures.py succeeds', r.stderr[-2000:]):
        print(f'{res.passed} passed, {res.failed} failed')
        return 1
    with open(os.path.join(fixtures, 'manifest.json')) as f:
        manifest = json.load(f)

    # ---- 2. the whole folder, JSON ----------------------------------------------------------
    rc, out, err = run_mlsc(mlsc, ['scan', fixtures, '--format', 'json'])
    doc, jerr = parse_json(out)
    res.check(doc is not None, 'scan --format json prints JSON', jerr or '')
    if doc is None:
        print(err[-2000:])
        print(f'{res.passed} passed, {res.failed} failed')
        return 1
    problems = shape_problems(doc)
    res.check(not problems, 'JSON report follows the contract', '\n      '.join(problems[:20]))
    res.check(rc == 1, 'exit code 1 on a folder with findings at or above high', f'rc={rc} {err[-500:]}')

    by_rel = {}
    bad_paths = []
    for entry in doc.get('files', []):
        p = entry.get('path', '')
        if not p.startswith(fixtures + '/'):
            bad_paths.append(p)
            continue
        rel = p[len(fixtures) + 1:]
        if '//' in p or rel in by_rel:
            bad_paths.append(p)
        by_rel[rel] = entry
    res.check(not bad_paths, 'each path is the argument joined with the path below it, once',
              ', '.join(bad_paths[:10]))
    on_disk = set()
    for dirpath, _, names in os.walk(fixtures):
        for n in names:
            on_disk.add(os.path.relpath(os.path.join(dirpath, n), fixtures))
    missing = sorted(on_disk - set(by_rel))
    res.check(not missing, 'every file below the folder is reported', ', '.join(missing[:10]))
    summary = doc.get('summary', {})
    if 'files' in summary:
        res.check(summary['files'] == len(doc['files']), 'summary.files counts the files',
                  f'{summary["files"]} vs {len(doc["files"])}')

    detected = total_mal = false_alarms = total_ben = 0
    unproven = []
    for e in manifest:
        entry = by_rel.get(e['file'])
        name = e['file']
        if entry is None:
            res.check(False, f'{name}: reported', 'not in the report')
            continue
        accepted = set(e.get('formats') or [e['format']])
        for f in list(accepted):
            accepted |= FORMAT_ALTERNATIVES.get(f, set())
        fmt_ok = entry.get('format') in accepted
        res.check(fmt_ok, f'{name}: format {e["format"]}', describe(entry))
        if e['expected'] == 'malicious':
            flagged = RANK.get(entry.get('max_severity'), 0) >= ALARM
            if not e['proven']:
                unproven.append((name, flagged, entry))
                continue
            total_mal += 1
            detected += flagged
            res.check(flagged, f'{name}: proven malicious flagged high/critical ({e["technique"]})',
                      describe(entry))
        else:
            total_ben += 1
            hi = high_findings(entry)
            false_alarms += bool(hi)
            res.check(not hi, f'{name}: benign, no high/critical finding', describe(entry))
            # Ordinary PyTorch files use persistent ids for every tensor: that is not news.
            pids = [x for x in entry.get('findings', []) if x.get('rule') == 'pickle.persistent-id']
            res.check(not pids, f'{name}: benign, torch storage records are not reported',
                      describe(entry))
    # Files that are not fixtures (manifest, support module, stamp) are no threat either.
    fixture_files = {e['file'] for e in manifest}
    for rel, entry in sorted(by_rel.items()):
        if rel not in fixture_files:
            res.check(not high_findings(entry), f'{rel}: helper file, no high/critical finding',
                      describe(entry))

    # ---- 3. exit codes ------------------------------------------------------------------------
    benign_dir = os.path.join(fixtures, 'benign')
    rc_b, out_b, err_b = run_mlsc(mlsc, ['scan', benign_dir, '--format', 'json'])
    doc_b, _ = parse_json(out_b)
    res.check(rc_b == 0, 'exit code 0 on the benign-only folder',
              f'rc={rc_b}; max={report_max(doc_b) if doc_b else "?"} {err_b[-300:]}')

    rc_m, out_m, err_m = run_mlsc(mlsc, ['scan', os.path.join(work, 'no-such-file.pkl'), '--format', 'json'])
    res.check(rc_m == 2, 'exit code 2 on a missing path', f'rc={rc_m}')
    res.check(bool(err_m.strip()), 'a missing path is explained on stderr')
    one_mal = os.path.join(fixtures, 'malicious', 'reduce_os_system_p2.pkl')
    rc_m2, _, _ = run_mlsc(mlsc, ['scan', one_mal, os.path.join(work, 'no-such-dir')])
    res.check(rc_m2 == 2, 'exit code 2 when one of several paths is missing', f'rc={rc_m2}')
    rc_u, _, _ = run_mlsc(mlsc, ['scan', one_mal, '--format', 'yaml'])
    res.check(rc_u == 2, 'exit code 2 on an unknown --format', f'rc={rc_u}')
    rc_u, _, _ = run_mlsc(mlsc, ['scan', one_mal, '--fail-on', 'severe'])
    res.check(rc_u == 2, 'exit code 2 on an unknown --fail-on', f'rc={rc_u}')
    rc_u, _, _ = run_mlsc(mlsc, ['scan'])
    res.check(rc_u == 2, 'exit code 2 when no path is given', f'rc={rc_u}')

    # ---- 4. --fail-on ---------------------------------------------------------------------------
    for target, tdoc in ((fixtures, doc), (benign_dir, doc_b)):
        if tdoc is None:
            continue
        worst = report_max(tdoc)
        for t in SEVERITIES[1:]:
            want = 1 if RANK[worst] >= RANK[t] and worst != 'none' else 0
            rc_t, _, _ = run_mlsc(mlsc, ['scan', target, '--format', 'json', '--fail-on', t])
            res.check(rc_t == want, f'--fail-on {t} on {os.path.relpath(target, work)} (worst {worst}) '
                                    f'exits {want}', f'rc={rc_t}')
    # A single file, at each threshold, against its own max_severity.
    one_entry = by_rel.get(os.path.relpath(one_mal, fixtures))
    if one_entry:
        worst = one_entry['max_severity']
        for t in ('medium', 'high', 'critical'):
            want = 1 if RANK[worst] >= RANK[t] else 0
            rc_t, _, _ = run_mlsc(mlsc, ['scan', one_mal, '--fail-on', t])
            res.check(rc_t == want, f'--fail-on {t} on one {worst} file exits {want}', f'rc={rc_t}')

    # ---- 5. paths as given ------------------------------------------------------------------------
    rc_p, out_p, _ = run_mlsc(mlsc, ['scan', 'fixtures/malicious/', '--format', 'json'], cwd=work)
    doc_p, _ = parse_json(out_p)
    paths = [f.get('path', '') for f in (doc_p or {}).get('files', [])]
    res.check(bool(paths) and all(p.startswith('fixtures/malicious/') and '//' not in p for p in paths),
              'relative directory argument with a trailing slash: paths joined without "//"',
              ', '.join(paths[:3]))
    rel_one = 'fixtures/malicious/reduce_os_system_p2.pkl'
    rc_p, out_p, _ = run_mlsc(mlsc, ['scan', rel_one, '--format', 'json'], cwd=work)
    doc_p, _ = parse_json(out_p)
    paths = [f.get('path') for f in (doc_p or {}).get('files', [])]
    res.check(paths == [rel_one], 'a file argument is reported under exactly that path', repr(paths))

    # ---- 6. --format text ---------------------------------------------------------------------------
    rc_t, out_t, _ = run_mlsc(mlsc, ['scan', one_mal, '--format', 'text'])
    res.check(rc_t == rc_of(one_entry), 'text output: same exit code as JSON', f'rc={rc_t}')
    low = out_t.lower()
    res.check(bool(out_t.strip()) and not out_t.lstrip().startswith('{') and one_mal in out_t
              and ('high' in low or 'critical' in low),
              'text output names the malicious file and its severity', out_t[:400])
    rc_t, out_t, _ = run_mlsc(mlsc, ['scan', benign_dir])  # text is the default
    res.check(rc_t == 0 and bool(out_t.strip()) and not out_t.lstrip().startswith('{'),
              'text output (default format) on the benign folder: exit 0 and a summary', out_t[-400:])
    res.check(len(out_t.splitlines()) < 10 * max(1, len(os.listdir(benign_dir))),
              'text output stays short on clean files', f'{len(out_t.splitlines())} lines')

    # ---- 7. --format sarif: GitHub's subset, every rule documented -----------------------------------
    rc_s, out_s, err_s = run_mlsc(mlsc, ['scan', fixtures, '--format', 'sarif', '--min-severity', 'info'])
    doc_s, serr = parse_json(out_s)
    res.check(doc_s is not None and rc_s == rc, 'SARIF output is JSON with the same exit code',
              serr or f'rc={rc_s} {err_s[-300:]}')
    if doc_s is not None:
        problems = sarif_problems(doc_s, catalogue(mlsc))
        res.check(not problems, 'SARIF log is valid for code scanning and every rule is catalogued',
                  '\n      '.join(problems[:20]))
        n_json = sum(len(f.get('findings', [])) for f in doc['files'])
        n_sarif = len(doc_s['runs'][0].get('results', []))
        res.check(n_sarif == n_json, 'SARIF has one result per finding (--min-severity info)',
                  f'{n_sarif} vs {n_json}')

    # ---- summary -------------------------------------------------------------------------------------
    if unproven:
        flagged = sum(1 for _, f, _ in unproven if f)
        print(f'unproven malicious fixtures (the real loader does not run them; not asserted): '
              f'flagged {flagged}/{len(unproven)}')
        for name, f, entry in unproven:
            print(f'  {"flagged" if f else "not flagged"}: {name}: {describe(entry)}')
    print(f'detected {detected}/{total_mal} malicious, false alarms {false_alarms}/{total_ben} benign')
    print(f'{res.passed} passed, {res.failed} failed')
    return 0 if res.failed == 0 else 1


def rc_of(entry):
    if entry is None:
        return None
    return 1 if RANK[entry['max_severity']] >= ALARM else 0


if __name__ == '__main__':
    sys.exit(main())
