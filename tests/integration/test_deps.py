#!/usr/bin/python3
"""End-to-end test of `mlsc deps` against the whole shared PyPI advisory database.

Usage: /usr/bin/python3 tests/integration/test_deps.py --mlsc BIN --work DIR --shared SHARED

1. Hand-checked pins: PyYAML==5.3, Pillow==8.0.0, werkzeug, py (last_affected), torch with a
   local version; the advisories and fixed versions below were read off the YAML files in
   SHARED/data/osv-pypi/vulns/<package>/ by hand. Versions at or after the fix are not reported.
2. Differential check: for every package in the database, versions taken from its advisories
   (every event version, the versions lists, and pre/post/local/dev neighbours of each fix) are
   audited by mlsc and by an independent evaluator written here from the OSV schema's
   pseudocode on top of the `packaging` library that setuptools vendors (21.3, which still has
   LegacyVersion). Every (version, advisory, fixed version) must agree.
3. The output formats (JSON shape, SARIF in the GitHub subset with catalogued rules, text),
   exit codes and --fail-on; CycloneDX and environment-folder inputs.
4. The installed Debian environment (/usr/lib/python3/dist-packages): mlsc's package list must
   equal importlib.metadata's, and what it reports is printed.
5. `deps typosquat` and `deps confusion` on the real popular-name and all-name lists.

Ends with `N passed, M failed`; exit status 0 only when nothing failed.
"""

import argparse
import functools
import glob
import gzip
import json
import os
import subprocess
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sarif_check import catalogue, sarif_problems  # noqa: E402

warnings.simplefilter('ignore')  # LegacyVersion's deprecation warning
import yaml  # noqa: E402  (Debian python3-yaml)
from pkg_resources.extern.packaging import version as pv  # noqa: E402

from harness import Results



def run(mlsc, args, timeout=900):
    r = subprocess.run([mlsc] + args, capture_output=True, text=True, timeout=timeout,
                       errors='replace')
    return r.returncode, r.stdout, r.stderr


def audit_json(mlsc, db, path, extra=()):
    rc, out, err = run(mlsc, ['deps', 'audit', path, '--db', db, '--format', 'json'] + list(extra))
    try:
        return rc, json.loads(out), err
    except json.JSONDecodeError:
        return rc, None, err + out[:2000]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def hits_by_line(doc):
    """location line -> {advisory id: fixed}"""
    out = {}
    for p in doc['packages']:
        line = int(p['location'].rsplit(':', 1)[1])
        out[line] = {v['id']: v['fixed'] for v in p['vulnerabilities']}
    return out


# ---- 1. hand-checked cases ---------------------------------------------------------------

# (requirement, {advisory: fixed} that must be reported, advisories that must not be)
HAND_CHECKED = [
    # vulns/pyyaml: PYSEC-2018-49 fixed 5.1, PYSEC-2020-96 fixed 5.3.1, PYSEC-2021-142 fixed 5.4
    ('PyYAML==5.3', {'PYSEC-2020-96': '5.3.1', 'PYSEC-2021-142': '5.4'}, {'PYSEC-2018-49'}),
    ('pyyaml==5.3.1', {'PYSEC-2021-142': '5.4'}, {'PYSEC-2020-96'}),
    ('PyYAML==5.4', {}, {'PYSEC-2020-96', 'PYSEC-2021-142', 'PYSEC-2018-49'}),
    ('PyYAML==4.2b1', {'PYSEC-2018-49': '5.1'}, set()),
    # vulns/pillow: PYSEC-2021-35 fixed 8.1.1, PYSEC-2021-69 fixed 8.1.0, PYSEC-2022-10 fixed 9.0.0
    ('Pillow==8.0.0', {'PYSEC-2021-35': '8.1.1', 'PYSEC-2021-69': '8.1.0',
                       'PYSEC-2022-10': '9.0.0'}, set()),
    ('pillow==8.1.1', {'PYSEC-2022-10': '9.0.0'}, {'PYSEC-2021-35', 'PYSEC-2021-69'}),
    ('Pillow==10.0.1', {}, {'PYSEC-2021-35', 'PYSEC-2021-69', 'PYSEC-2022-10',
                            'PYSEC-2023-175', 'PYSEC-2023-227'}),
    # vulns/werkzeug/PYSEC-2023-221: [0, 2.3.8) and [3.0.0, 3.0.1)
    ('Werkzeug==2.3.7', {'PYSEC-2023-221': '2.3.8'}, set()),
    ('werkzeug==3.0.0', {'PYSEC-2023-221': '3.0.1'}, set()),
    ('werkzeug==2.3.8', {}, {'PYSEC-2023-221'}),
    # vulns/py/PYSEC-2022-42969: introduced 0, last_affected 1.11.0 (no fix)
    ('py==1.11.0', {'PYSEC-2022-42969': None}, set()),
    ('py==1.11.1', {}, {'PYSEC-2022-42969'}),
    # vulns/torch/PYSEC-2022-43015: fixed 1.13.1; a local build of 1.13.0 is still affected
    ('torch==1.13.0+cu117', {'PYSEC-2022-43015': '1.13.1'}, set()),
    ('torch==1.13.1+cpu', {}, {'PYSEC-2022-43015'}),
]


def check_hand_cases(mlsc, db, work, res):
    path = os.path.join(work, 'hand', 'requirements.txt')
    write(path, ''.join(r + '\n' for r, _, _ in HAND_CHECKED))
    rc, doc, err = audit_json(mlsc, db, path)
    if not res.check(doc is not None, 'hand cases: JSON output', err):
        return
    res.check(rc == 1, 'hand cases: exit 1 with findings', f'rc={rc}')
    by_line = hits_by_line(doc)
    for i, (req, must, must_not) in enumerate(HAND_CHECKED, start=1):
        got = by_line.get(i, {})
        for vid, fixed in must.items():
            res.check(vid in got and got[vid] == fixed, f'{req}: {vid} fixed {fixed}',
                      f'got {got.get(vid, "not reported")}')
        for vid in must_not:
            res.check(vid not in got, f'{req}: {vid} not reported')
    db_info = doc['database']
    res.check(db_info['records'] + db_info['withdrawn_skipped'] == 2661 and db_info['errors'] == 0,
              'whole database loaded', json.dumps(db_info)[:300])
    print(f'database: {db_info["records"]} records, {db_info["withdrawn_skipped"]} withdrawn, '
          f'loaded in {db_info["load_seconds"]:.2f} s')


# ---- 2. differential check against an independent evaluator ----------------------------------

@functools.lru_cache(maxsize=None)
def parse(text):
    return pv.parse(text)


def listed_versions(affected):
    if '_listed' not in affected:
        affected['_listed'] = {parse(str(x)) for x in affected.get('versions') or []}
    return affected['_listed']


def key(e):
    """Sort key of an event: "0" first, "*" last, else the version."""
    (kind, val), = e.items()
    val = str(val)
    if kind == 'introduced' and val == '0':
        return (0, parse('0'))
    if kind == 'limit' and '*' in val:
        return (2, parse('0'))
    return (1, parse(val))


def is_vulnerable(v, affected):
    """The OSV schema's IsVulnerable for one affected entry, over packaging's versions."""
    listed = listed_versions(affected)
    # LegacyVersion hashes its text but compares by key, so compare those one by one.
    if v in listed or (isinstance(v, pv.LegacyVersion) and any(x == v for x in listed)):
        return True
    for rng in affected.get('ranges') or []:
        if rng.get('type') not in ('ECOSYSTEM', 'SEMVER'):
            continue
        events = rng.get('events') or []

        limits = [e for e in events if 'limit' in e]
        if limits and not any(key(e)[0] == 2 or v < key(e)[1] for e in limits):
            continue
        vulnerable = False
        for e in sorted(events, key=key):
            k = key(e)
            at_or_below = k[0] == 0 or (k[0] == 1 and k[1] <= v)
            if 'introduced' in e and at_or_below:
                vulnerable = True
            elif 'fixed' in e and at_or_below:
                vulnerable = False
            elif 'last_affected' in e and k[0] == 1 and k[1] < v:
                vulnerable = False
        if vulnerable:
            return True
    return False


def lowest_fix(v, affected):
    fixes = [str(e['fixed']) for r in affected.get('ranges') or []
             if r.get('type') in ('ECOSYSTEM', 'SEMVER') for e in r.get('events') or []
             if 'fixed' in e and parse(str(e['fixed'])) > v]
    return min(fixes, key=parse) if fixes else None


def normalize(name):
    import re
    return re.sub(r'[-_.]+', '-', name).lower()


def load_records(shared):
    by_pkg = {}
    for path in sorted(glob.glob(os.path.join(shared, 'data', 'osv-pypi', 'vulns', '*', '*.yaml'))):
        with open(path) as f:
            # Every scalar a string, as OSV means it (the C loader when Debian has it).
            rec = yaml.load(f, Loader=getattr(yaml, 'CBaseLoader', yaml.BaseLoader))
        if rec.get('withdrawn'):
            continue
        for a in rec.get('affected') or []:
            pkg = a.get('package') or {}
            if pkg.get('ecosystem') == 'PyPI':
                by_pkg.setdefault(normalize(pkg['name']), []).append((rec['id'], a))
    return by_pkg


def probe_versions(entries):
    """Versions worth asking about: every event and listed version, and neighbours of fixes."""
    out = set()
    for _, a in entries:
        for listed in (a.get('versions') or [])[:40]:
            out.add(str(listed))
        for r in a.get('ranges') or []:
            for e in r.get('events') or []:
                (kind, val), = e.items()
                val = str(val)
                if '*' in val or len(val) > 60:
                    continue
                out.add(val)
                if kind in ('fixed', 'last_affected') and isinstance(pv.parse(val), pv.Version):
                    out.update({val + 'a1', val + '.post1', val + '+local.1', val + '.dev0'})
    return sorted(out)


def check_differential(mlsc, db, shared, work, res):
    by_pkg = load_records(shared)
    lines, expected = [], []
    for name in sorted(by_pkg):
        for ver in probe_versions(by_pkg[name]):
            if any(c.isspace() or c in '#;\\' for c in ver) or ver.startswith('-'):
                continue
            lines.append(f'{name}==={ver}')
            v = parse(ver)
            exp = {}
            for vid, a in by_pkg[name]:
                if is_vulnerable(v, a) and vid not in exp:
                    exp[vid] = lowest_fix(v, a)
            expected.append(exp)
    path = os.path.join(work, 'diff', 'requirements.txt')
    write(path, '\n'.join(lines) + '\n')
    rc, doc, err = audit_json(mlsc, db, path)
    if not res.check(doc is not None, 'differential: JSON output', err):
        return
    got = hits_by_line(doc)
    mismatches = []
    for i, exp in enumerate(expected, start=1):
        if got.get(i, {}) != exp:
            mismatches.append(f'{lines[i - 1]}: mlsc {got.get(i, {})} reference {exp}')
    hits = sum(len(e) for e in expected)
    res.check(not mismatches, f'differential: {len(lines)} package versions, {hits} advisory hits '
              f'agree with the reference evaluator', '\n      '.join(mismatches[:15]))
    res.check(hits > 20000 and len(lines) > 10000, 'differential: enough coverage',
              f'{len(lines)} versions, {hits} hits')
    print(f'differential: {len(lines)} package versions from {len(by_pkg)} packages, '
          f'{hits} advisory hits, {len(mismatches)} mismatches; '
          f'match time {doc["summary"]["match_seconds"]:.3f} s')


# ---- 3. formats, exit codes, other inputs ------------------------------------------------------

def check_formats(mlsc, db, work, res, rules):
    # One package's folder is a database too; it keeps these many runs quick (under ASan).
    db = os.path.join(db, 'vulns', 'pyyaml')
    pillow_db = os.path.join(os.path.dirname(db), 'pillow')
    path = os.path.join(work, 'formats', 'requirements.txt')
    write(path, 'PyYAML==5.3\nrequests>=2\n')
    rc, out, err = run(mlsc, ['deps', 'audit', path, '--db', db, '--format', 'sarif'])
    res.check(rc == 1, 'sarif: exit 1', f'rc={rc} {err[:300]}')
    try:
        sarif = json.loads(out)
        problems = sarif_problems(sarif, rules)
        results = sarif['runs'][0]['results']
    except (json.JSONDecodeError, KeyError, IndexError) as e:
        problems, results = [f'not SARIF: {e}'], []
    res.check(not problems, 'sarif: valid GitHub subset, catalogued rules', '; '.join(problems[:5]))
    res.check(any(r['ruleId'] == 'vuln.known-vulnerability' and 'PYSEC-2021-142' in
                  r['message']['text'] for r in results), 'sarif: advisory reported')
    rc, out, _ = run(mlsc, ['deps', 'audit', path, '--db', db])
    res.check(rc == 1 and 'PYSEC-2021-142' in out and 'fixed in 5.4' in out, 'text output')
    # --fail-on: both advisories are unscored (reported high).
    for level, want in (('high', 1), ('critical', 0)):
        rc, _, _ = run(mlsc, ['deps', 'audit', path, '--db', db, '--fail-on', level])
        res.check(rc == want, f'--fail-on {level} exits {want}', f'rc={rc}')
    clean = os.path.join(work, 'formats', 'clean.txt')
    write(clean, 'PyYAML==6.0.1\n')
    rc, _, _ = run(mlsc, ['deps', 'audit', clean, '--db', db])
    res.check(rc == 0, 'clean pin exits 0', f'rc={rc}')
    rc, _, _ = run(mlsc, ['deps', 'audit', os.path.join(work, 'missing.txt'), '--db', db])
    res.check(rc == 2, 'missing input exits 2', f'rc={rc}')
    rc, _, _ = run(mlsc, ['deps', 'audit', path, '--db', os.path.join(work, 'no-db')])
    res.check(rc == 2, 'missing database exits 2', f'rc={rc}')
    # A CycloneDX BOM with purls.
    bom = os.path.join(work, 'formats', 'bom.json')
    write(bom, json.dumps({'bomFormat': 'CycloneDX', 'specVersion': '1.6', 'version': 1,
                           'components': [{'type': 'library', 'name': 'Pillow', 'version': '8.0.0',
                                           'purl': 'pkg:pypi/pillow@8.0.0'},
                                          {'type': 'library', 'name': 'lodash',
                                           'purl': 'pkg:npm/lodash@4.17.0'}]}))
    rc, doc, err = audit_json(mlsc, pillow_db, bom)
    ok = doc is not None and doc['input']['kind'] == 'cyclonedx' and len(doc['packages']) == 1
    res.check(ok and any(v['id'] == 'PYSEC-2022-10' for v in doc['packages'][0]['vulnerabilities']),
              'CycloneDX input audited', err[:300])


# ---- 4. the Debian environment ------------------------------------------------------------------

def check_debian_environment(mlsc, db, top, res):
    site = '/usr/lib/python3/dist-packages'
    if not os.path.isdir(site):
        print('skip: no', site)
        return
    import importlib.metadata as md
    reference = {(normalize(d.metadata['Name']), d.version) for d in md.distributions(path=[site])
                 if d.metadata['Name']}
    rc, doc, err = audit_json(mlsc, db, site, ['--top', top])
    if not res.check(doc is not None, 'Debian environment: JSON output', err):
        return
    mine = {(normalize(p['name']), p['version']) for p in doc['packages']}
    res.check(mine == reference, 'Debian environment: same packages as importlib.metadata',
              f'only mlsc: {sorted(mine - reference)[:5]} only importlib: '
              f'{sorted(reference - mine)[:5]}')
    print(f'Debian environment {site}: {len(mine)} packages, '
          f'{doc["summary"]["vulnerabilities"]} advisories in '
          f'{doc["summary"]["vulnerable_packages"]} packages, '
          f'{doc["summary"]["typosquats"]} typosquat flags')
    for p in doc['packages']:
        for v in p['vulnerabilities']:
            print(f'  {p["name"]}=={p["version"]}: {v["id"]} ({", ".join(v["aliases"])}) '
                  f'{v["severity"]}, fixed in {v["fixed"]}')
        for s in p['typosquats']:
            print(f'  {p["name"]}: typosquat? {s["kind"]} of {s["target"]} (rank {s["target_rank"]})')


# ---- 5. typosquat and confusion commands -----------------------------------------------------------

def check_typosquat(mlsc, top, work, res):
    rc, out, err = run(mlsc, ['deps', 'typosquat', 'reqeusts', 'numpy', 'pythondateutil', 'djang0',
                              '--top', top, '--format', 'json'])
    try:
        names = {n['name']: n for n in json.loads(out)['names']}
    except (json.JSONDecodeError, KeyError):
        res.check(False, 'typosquat: JSON output', err + out[:500])
        return
    res.check(rc == 1, 'typosquat: exit 1 when something is flagged', f'rc={rc}')
    res.check(names['reqeusts']['matches'][0]['target'] == 'requests', 'typosquat: reqeusts')
    res.check(names['numpy']['matches'] == [] and names['numpy']['popular_rank'] is not None,
              'typosquat: a popular name is not flagged')
    res.check(names['pythondateutil']['matches'][0]['kind'] == 'separator',
              'typosquat: separator variant')
    res.check(names['djang0']['matches'][0]['kind'] == 'confusable', 'typosquat: confusable')
    listing = os.path.join(work, 'typo', 'names.txt')
    write(listing, 'requests==2.0\nflask>=2\n')
    rc, out, _ = run(mlsc, ['deps', 'typosquat', '--from', listing, '--top', top])
    res.check(rc == 0 and '2 names checked, 0 flagged' in out, 'typosquat --from, clean', out[-300:])


def check_confusion(mlsc, shared, work, res, rules):
    names = os.path.join(shared, 'data', 'pypi-all-names.txt.gz')
    with gzip.open(names, 'rt') as f:
        public = {normalize(line.strip()) for line in f if line.strip()}
    project = os.path.join(work, 'confusion')
    write(os.path.join(project, 'internal.yaml'),
          'internal: [requests, mlsc-internal-never-published-xyz, "django-*"]\n'
          'private_index: https://pypi.corp.example/simple\n')
    write(os.path.join(project, 'app', 'requirements.txt'),
          '--extra-index-url https://pypi.corp.example/simple\n'
          'mlsc-internal-never-published-xyz>=1.0\nnumpy==1.26.0\n')
    rc, out, err = run(mlsc, ['deps', 'confusion', project, '--config',
                              os.path.join(project, 'internal.yaml'), '--public-names', names,
                              '--format', 'json'])
    try:
        files = json.loads(out)['files']
    except (json.JSONDecodeError, KeyError):
        res.check(False, 'confusion: JSON output', err + out[:500])
        return
    findings = [(x['rule'], x['member'], x['severity']) for f in files for x in f['findings']]
    res.check(rc == 1, 'confusion: exit 1', f'rc={rc}')
    res.check(('vuln.internal-name-public', 'requests', 'high') in findings,
              'confusion: "requests" is on the public index', str(findings))
    res.check('requests' in public and 'mlsc-internal-never-published-xyz' not in public,
              'confusion: reference list agrees')
    res.check(('vuln.internal-name-unclaimed', 'mlsc-internal-never-published-xyz', 'info')
              in findings, 'confusion: unclaimed internal name')
    n_django = sum(1 for n in public if n.startswith('django-'))
    res.check(any(r == 'vuln.internal-name-public' and m == 'django-*' for r, m, _ in findings),
              f'confusion: prefix django-* matches ({n_django} public names)')
    res.check(('vuln.unpinned-in-mixed-index', 'mlsc-internal-never-published-xyz', 'critical')
              in findings, 'confusion: unpinned internal requirement is critical')
    res.check(('vuln.unpinned-in-mixed-index', 'numpy', 'high') in findings,
              'confusion: unhashed requirement is high')
    res.check(any(r == 'vuln.mixed-index' for r, _, _ in findings), 'confusion: mixed index')
    rc, out, _ = run(mlsc, ['deps', 'confusion', project, '--config',
                            os.path.join(project, 'internal.yaml'), '--public-names', names,
                            '--format', 'sarif'])
    try:
        problems = sarif_problems(json.loads(out), rules)
    except json.JSONDecodeError as e:
        problems = [str(e)]
    res.check(not problems, 'confusion: SARIF valid', '; '.join(problems[:5]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    db = os.path.join(args.shared, 'data', 'osv-pypi')
    top = os.path.join(args.shared, 'data', 'pypi-top-packages.tsv')
    res = Results()
    rules = catalogue(args.mlsc)
    check_hand_cases(args.mlsc, db, args.work, res)
    check_differential(args.mlsc, db, args.shared, args.work, res)
    check_formats(args.mlsc, db, args.work, res, rules)
    check_debian_environment(args.mlsc, db, top, res)
    check_typosquat(args.mlsc, top, args.work, res)
    check_confusion(args.mlsc, args.shared, args.work, res, rules)
    print(f'{res.passed} passed, {res.failed} failed')
    return 1 if res.failed else 0


if __name__ == '__main__':
    sys.exit(main())
