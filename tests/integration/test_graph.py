"""Lineage graph end to end, on both backends: documents made here (SLSA statements, a DSSE
envelope, a model-signing statement, a CycloneDX ML-BOM, and a real `mlsc scan --format json`
report) are ingested into SQLite and into a real PostgreSQL server started by
scripts/start-postgres.sh; every query must give the expected answer, identically on both.
Also runs the store's gtest suite against PostgreSQL (MLSC_TEST_PG_URI).
If PostgreSQL cannot be started this test FAILS: it never skips."""
import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print('FAIL', what)


def h(text):
    return hashlib.sha256(text.encode()).hexdigest()


def statement(subjects, deps, builder):
    return {'_type': 'https://in-toto.io/Statement/v1',
            'subject': [{'name': n, 'digest': {'sha256': d}} for n, d in subjects],
            'predicateType': 'https://slsa.dev/provenance/v1',
            'predicate': {'buildDefinition': {'buildType': 'https://mlsc.dev/test/v1',
                                              'externalParameters': {},
                                              'resolvedDependencies': deps},
                          'runDetails': {'builder': {'id': builder}}}}


def model_signing(name, files):
    raw = b''.join(bytes.fromhex(d) for _, d in files)
    return {'_type': 'https://in-toto.io/Statement/v1',
            'subject': [{'name': name, 'digest': {'sha256': hashlib.sha256(raw).hexdigest()}}],
            'predicateType': 'https://model_signing/signature/v1.0',
            'predicate': {'serialization': {'method': 'files', 'hash_type': 'sha256',
                                            'allow_symlinks': False},
                          'resources': [{'algorithm': 'sha256', 'digest': d, 'name': n}
                                        for n, d in files]}}


# The pipeline: raw dataset -> cleaned dataset -> base model -> fine-tune -> deployment image,
# with torch as a package dependency, a BOM for the deployment, and a scan of a model file.
RAW, CLEAN, BASE, TUNED, IMAGE = h('raw'), h('clean'), h('base'), h('tuned'), h('image')
CFG, WEIGHTS = h('config.json'), h('weights.bin')


def make_documents(work, mlsc):
    docs = {}
    docs['clean.json'] = statement(
        [('clean.parquet', CLEAN)],
        [{'uri': 'https://data.example/datasets/raw', 'digest': {'sha256': RAW},
          'annotations': {'kind': 'dataset'}}], 'https://ci.example/etl')
    docs['base.json'] = statement(
        [('base.safetensors', BASE)],
        [{'uri': 'https://data.example/datasets/clean', 'digest': {'sha256': CLEAN},
          'annotations': {'kind': 'dataset', 'weight': 1.0}},
         {'uri': 'pkg:pypi/torch@1.13.1'}], 'https://ci.example/train')
    tuned = statement([('tuned.safetensors', TUNED)],
                      [{'name': 'base', 'digest': {'sha256': BASE},
                        'annotations': {'kind': 'base_model'}}], 'https://ci.example/train')
    payload = base64.b64encode(json.dumps(tuned).encode()).decode()
    docs['tuned.dsse.json'] = {'payloadType': 'application/vnd.in-toto+json', 'payload': payload,
                               'signatures': [{'keyid': 'trainer', 'sig': 'AAAA'}]}
    docs['image.json'] = statement([('image.tar', IMAGE)],
                                   [{'uri': 'tuned', 'digest': {'sha256': TUNED}}],
                                   'https://ci.example/package')
    docs['tuned.sig.json'] = model_signing('tuned', [('config.json', CFG), ('weights.bin', WEIGHTS)])
    docs['bom.json'] = {
        'bomFormat': 'CycloneDX', 'specVersion': '1.6',
        'metadata': {'component': {'type': 'application', 'name': 'server', 'bom-ref': 'server',
                                   'hashes': [{'alg': 'SHA-256', 'content': IMAGE}]}},
        'components': [{'type': 'library', 'name': 'numpy', 'version': '1.24.2',
                        'purl': 'pkg:pypi/numpy@1.24.2', 'bom-ref': 'numpy'},
                       {'type': 'library', 'name': 'torch', 'version': '1.13.1',
                        'purl': 'pkg:pypi/torch@1.13.1', 'bom-ref': 'torch'}],
        'dependencies': [{'ref': 'server', 'dependsOn': ['torch']},
                         {'ref': 'torch', 'dependsOn': ['numpy']}]}
    paths = []
    for name, doc in docs.items():
        p = os.path.join(work, name)
        with open(p, 'w') as f:
            json.dump(doc, f)
        paths.append(p)
    # A real scan report of a harmless file.
    model_dir = os.path.join(work, 'scanned')
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, 'notes.txt'), 'w') as f:
        f.write('not a model\n')
    scan = subprocess.run([mlsc, 'scan', model_dir, '--format', 'json', '-q'],
                          capture_output=True, text=True)
    check(scan.returncode in (0, 1), f'mlsc scan failed: {scan.stderr}')
    p = os.path.join(work, 'scan.json')
    with open(p, 'w') as f:
        f.write(scan.stdout)
    paths.append(p)
    return paths


def run(mlsc, *args):
    return subprocess.run([mlsc, 'graph', *args], capture_output=True, text=True)


def query(mlsc, db, *args):
    r = run(mlsc, *args, '--db', db, '--format', 'json')
    check(r.returncode == 0, f'{args} on {db[:10]}: rc {r.returncode}: {r.stderr}')
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        return {}


def depths(answer):
    return {n['key']: n['depth'] for n in answer.get('nodes', [])}


def exercise(mlsc, db, paths, name):
    r = run(mlsc, 'ingest', *paths, '--db', db)
    check(r.returncode == 0, f'{name}: ingest rc {r.returncode}: {r.stderr}')
    check(r.stdout.count('ingested ') == len(paths), f'{name}: ingest output {r.stdout}')
    again = run(mlsc, 'ingest', *paths, '--db', db)
    check(again.stdout.count('unchanged ') == len(paths), f'{name}: re-ingest changed {again.stdout}')
    answers = {}
    affected = query(mlsc, db, 'affected', '--by', 'https://data.example/datasets/raw')
    d = depths(affected)
    expected = {f'sha256:{RAW}': 1, f'sha256:{CLEAN}': 2, f'sha256:{BASE}': 3,
                f'sha256:{TUNED}': 4, f'sha256:{IMAGE}': 5}
    check(d == expected, f'{name}: affected by raw dataset: {d}')
    answers['affected-dataset'] = affected
    torch = depths(query(mlsc, db, 'affected', '--by', 'pkg:pypi/torch@1.13.1'))
    check(torch == {f'sha256:{BASE}': 1, f'sha256:{IMAGE}': 1, f'sha256:{TUNED}': 2},
          f'{name}: affected by torch: {torch}')
    answers['affected-torch'] = torch
    numpy = depths(query(mlsc, db, 'affected', '--by', 'pkg:pypi/numpy@1.24.2'))
    check(numpy.get(f'sha256:{IMAGE}') == 2 and numpy.get(f'sha256:{TUNED}') == 3,
          f'{name}: affected by numpy: {numpy}')
    lineage = depths(query(mlsc, db, 'lineage', f'sha256:{TUNED}'))
    for key, depth in [(f'sha256:{BASE}', 1), ('identity:key:trainer', 1),
                       ('builder:https://ci.example/train', 1), (f'sha256:{RAW}', 3),
                       ('dataset:https://data.example/datasets/raw', 4),
                       ('pkg:pypi/numpy@1.24.2', 3)]:
        check(lineage.get(key) == depth, f'{name}: lineage of tuned: {key} -> {lineage.get(key)}')
    answers['lineage'] = lineage
    root = model_signing('tuned', [('config.json', CFG), ('weights.bin', WEIGHTS)])
    files = depths(query(mlsc, db, 'lineage', 'sha256:' + root['subject'][0]['digest']['sha256']))
    check(files == {f'sha256:{CFG}': 1, f'sha256:{WEIGHTS}': 1}, f'{name}: signed files {files}')
    p = query(mlsc, db, 'path', f'sha256:{RAW}', f'sha256:{IMAGE}')
    check(p.get('direction') == 'downstream' and p.get('length') == 4, f'{name}: path {p}')
    answers['path'] = p
    back = query(mlsc, db, 'path', f'sha256:{IMAGE}', 'pkg:pypi/numpy@1.24.2')
    check(back.get('direction') == 'upstream' and back.get('length') == 2, f'{name}: path back {back}')
    scanned = depths(query(mlsc, db, 'affected', '--by', 'verdict:none'))
    check(any(k.endswith('notes.txt') for k in scanned), f'{name}: scan verdict: {scanned}')
    none = run(mlsc, 'path', f'sha256:{CFG}', f'sha256:{WEIGHTS}', '--db', db)
    check(none.returncode == 1 and 'no path' in none.stdout, f'{name}: sibling path {none.stdout}')
    missing = run(mlsc, 'affected', '--by', 'no-such-thing', '--db', db)
    check(missing.returncode == 1, f'{name}: unknown node rc {missing.returncode}')
    return answers


def start_postgres(dbname):
    r = subprocess.run([os.path.join(ROOT, 'scripts', 'start-postgres.sh'), '--fresh-db', dbname],
                       capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip().startswith('postgresql://'):
        print(r.stderr)
        return None
    return r.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared')
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    paths = make_documents(args.work, args.mlsc)

    sqlite = exercise(args.mlsc, os.path.join(args.work, 'graph.db'), paths, 'sqlite')
    pg_uri = start_postgres('mlsc_it_cli')
    if pg_uri is None:
        print('FAIL PostgreSQL could not be started (scripts/start-postgres.sh); not skipping')
        return 1
    pg = exercise(args.mlsc, pg_uri, paths, 'postgresql')
    check(sqlite == pg, 'SQLite and PostgreSQL answers differ')

    # The store's unit tests against the same real server.
    tests = os.path.join(os.path.dirname(args.mlsc), 'tests', 'mlsc_tests')
    check(os.path.exists(tests), f'{tests} not built')
    gtest_uri = start_postgres('mlsc_it_gtest')
    if os.path.exists(tests) and gtest_uri:
        env = dict(os.environ, MLSC_TEST_PG_URI=gtest_uri)
        r = subprocess.run([tests, '--gtest_filter=*StoreTest.*/postgresql'], env=env,
                           capture_output=True, text=True)
        passed = [l for l in r.stdout.splitlines() if l.startswith('[  PASSED  ]')]
        check(r.returncode == 0, f'gtest on PostgreSQL failed:\n{r.stdout[-4000:]}')
        check(bool(passed) and int(passed[0].split()[3]) >= 7,
              f'gtest on PostgreSQL ran too few tests: {passed}')
        print(passed[0] if passed else r.stdout[-2000:])
    print(f'graph: {len(FAILURES)} failures')
    return 1 if FAILURES else 0


if __name__ == '__main__':
    sys.exit(main())
