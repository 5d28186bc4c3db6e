#!/usr/bin/python3
"""End-to-end test of `mlsc dataset` (manifest, verify, fetch-verify, diff, croissant).

Usage: /usr/bin/python3 tests/integration/test_dataset.py --mlsc BIN --work DIR [--shared SHARED]

1. A dataset of numpy-written .npy arrays, a labels CSV and Croissant metadata is manifested and
   signed with an openssl-made P-256 key; the bundle's statement is checked independently: the
   subject digest equals an RFC 6962 Merkle root computed here with hashlib.
2. verify exits 0; a flipped byte, a removed file and an added file each exit 1 naming the file;
   a wrong key exits 1; a missing bundle exits 2.
3. Croissant: a wrong sha256 makes `manifest` exit 1 and write nothing; `croissant --write`
   fixes it (checked with hashlib) and keeps the other fields.
4. diff between an unsigned statement, a signed bundle and a directory.
5. URL lists (CSV with hostile quoting, JSON Lines hashed from a fetch directory): fetch-verify
   accepts the recorded content and refuses changed, missing and unlisted content (exit 1);
   a Parquet list is refused plainly (exit 2).

Ends with `N passed, M failed`; exit status 0 only when nothing failed.
"""

import argparse
import base64
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np

from harness import Results

PREDICATE = 'https://mlsc.dev/dataset-manifest/v1'



def run(mlsc, *args):
    p = subprocess.run([mlsc, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def sha256_file(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def merkle_root(leaves):
    """RFC 6962 MTH over the given leaf byte strings."""
    def mth(items):
        if not items:
            return hashlib.sha256(b'').digest()
        if len(items) == 1:
            return hashlib.sha256(b'\x00' + items[0]).digest()
        k = 1
        while k * 2 < len(items):
            k *= 2
        return hashlib.sha256(b'\x01' + mth(items[:k]) + mth(items[k:])).digest()
    return mth(leaves).hex()


def expected_root(files):
    """files: {relative path: sha256 hex}; leaves `path NUL hex` sorted bytewise."""
    keys = sorted(files, key=lambda k: k.encode())
    return merkle_root([k.encode() + b'\x00' + files[k].encode() for k in keys])


def tree_hashes(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root).replace(os.sep, '/')] = sha256_file(p)
    return out


def statement_of(bundle_path):
    with open(bundle_path) as f:
        bundle = json.load(f)
    return json.loads(base64.b64decode(bundle['dsseEnvelope']['payload']))


def make_dataset(root):
    rng = np.random.default_rng(7)
    os.makedirs(os.path.join(root, 'train'))
    os.makedirs(os.path.join(root, 'test'))
    for split, n in (('train', 6), ('test', 3)):
        for i in range(n):
            np.save(os.path.join(root, split, f'x{i:03d}.npy'), rng.standard_normal((64, 32)).astype(np.float32))
    with open(os.path.join(root, 'labels.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['file', 'label'])
        for i in range(6):
            w.writerow([f'train/x{i:03d}.npy', i % 2])
    croissant = {
        '@context': {'@vocab': 'https://schema.org/', 'cr': 'http://mlcommons.org/croissant/', 'md5': 'cr:md5'},
        '@type': 'sc:Dataset', 'name': 'toy', 'conformsTo': 'http://mlcommons.org/croissant/1.0',
        'distribution': [
            {'@type': 'cr:FileObject', '@id': 'labels', 'name': 'labels.csv', 'contentUrl': 'labels.csv',
             'encodingFormat': 'text/csv', 'sha256': sha256_file(os.path.join(root, 'labels.csv'))},
            {'@type': 'cr:FileObject', '@id': 'x0', 'name': 'x000.npy', 'contentUrl': 'train/x000.npy',
             'md5': hashlib.md5(open(os.path.join(root, 'train', 'x000.npy'), 'rb').read()).hexdigest()},
            {'@type': 'cr:FileSet', '@id': 'arrays', 'includes': 'train/*.npy'},
        ]}
    with open(os.path.join(root, 'croissant.json'), 'w') as f:
        json.dump(croissant, f, indent=1)


def openssl_key(work, name):
    key = os.path.join(work, name + '.pem')
    pub = os.path.join(work, name + '.pub')
    subprocess.run(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key],
                   check=True, capture_output=True)
    subprocess.run(['openssl', 'pkey', '-in', key, '-pubout', '-out', pub], check=True, capture_output=True)
    return key, pub


def check_directory(mlsc, r, work):
    ds = os.path.join(work, 'ds')
    make_dataset(ds)
    key, pub = openssl_key(work, 'signer')
    _, other = openssl_key(work, 'other')
    rc, out = run(mlsc, 'dataset', 'manifest', ds + '/', '--key', key, '--source', 'https://example.test/toy')
    bundle = ds + '.manifest.sig'
    if not r.check(rc == 0 and os.path.exists(bundle), 'manifest signs the dataset', out):
        return
    st = statement_of(bundle)
    r.check(st['predicateType'] == PREDICATE, 'predicate type', st.get('predicateType'))
    root = expected_root(tree_hashes(ds))
    r.check(st['subject'] == [{'name': 'ds', 'digest': {'sha256': root}}], 'subject = independent Merkle root',
            f"{st['subject']} vs {root}")
    r.check(len(st['predicate']['files']) == 11 and st['predicate']['croissant'] == 'croissant.json',
            'predicate lists every file and the Croissant file', json.dumps(st['predicate'])[:300])

    rc, out = run(mlsc, 'dataset', 'verify', ds, '--manifest', bundle, '--public-key', pub)
    r.check(rc == 0 and 'OK' in out, 'verify clean dataset', out)
    rc, out = run(mlsc, 'dataset', 'verify', ds, '--manifest', bundle, '--public-key', pub, '--format', 'json')
    r.check(rc == 0 and json.loads(out)['ok'] is True, 'verify json', out)
    rc, out = run(mlsc, 'dataset', 'verify', ds, '--manifest', bundle, '--public-key', other)
    r.check(rc == 1, 'wrong key exits 1', out)
    rc, out = run(mlsc, 'dataset', 'verify', ds, '--manifest', bundle + '.nope', '--public-key', pub)
    r.check(rc == 2, 'missing bundle exits 2', out)

    victim = os.path.join(ds, 'train', 'x003.npy')
    original = open(victim, 'rb').read()
    with open(victim, 'r+b') as f:
        f.seek(200)
        b = f.read(1)
        f.seek(200)
        f.write(bytes([b[0] ^ 1]))
    rc, out = run(mlsc, 'dataset', 'verify', ds, '--manifest', bundle, '--public-key', pub)
    r.check(rc == 1 and 'changed  train/x003.npy' in out, 'flipped byte names the file', out)
    os.remove(victim)
    rc, out = run(mlsc, 'dataset', 'verify', ds, '--manifest', bundle, '--public-key', pub, '--format', 'json')
    r.check(rc == 1 and json.loads(out)['missing'] == ['train/x003.npy'], 'removed file is missing', out)
    with open(victim, 'wb') as f:
        f.write(original)
    with open(os.path.join(ds, 'test', 'poison.npy'), 'wb') as f:
        f.write(original)
    rc, out = run(mlsc, 'dataset', 'verify', ds, '--manifest', bundle, '--public-key', pub)
    r.check(rc == 1 and 'extra    test/poison.npy' in out, 'added file is extra', out)
    os.remove(os.path.join(ds, 'test', 'poison.npy'))
    return ds, key, pub, bundle


def check_croissant(mlsc, r, work, ds, key):
    meta = os.path.join(ds, 'croissant.json')
    doc = json.load(open(meta))
    doc['distribution'][0]['sha256'] = '0' * 64
    doc['distribution'][1]['md5'] = 'f' * 32
    json.dump(doc, open(meta, 'w'))
    out_file = os.path.join(work, 'bad.sig')
    rc, out = run(mlsc, 'dataset', 'manifest', ds, '--key', key, '-o', out_file)
    r.check(rc == 1 and not os.path.exists(out_file) and 'labels.csv' in out and 'md5' in out,
            'Croissant mismatches refuse the manifest', out)
    rc, out = run(mlsc, 'dataset', 'croissant', ds)
    r.check(rc == 1 and '2 mismatches' in out, 'croissant check reports both', out)
    rc, out = run(mlsc, 'dataset', 'croissant', ds, '--write')
    fixed = json.load(open(meta))
    labels = os.path.join(ds, 'labels.csv')
    x0 = os.path.join(ds, 'train', 'x000.npy')
    r.check(rc == 0 and fixed['distribution'][0]['sha256'] == sha256_file(labels)
            and fixed['distribution'][1]['sha256'] == sha256_file(x0)
            and fixed['distribution'][1]['md5'] == hashlib.md5(open(x0, 'rb').read()).hexdigest()
            and fixed['distribution'][0]['encodingFormat'] == 'text/csv'
            and fixed['distribution'][2] == doc['distribution'][2], 'croissant --write fixes hashes', out)
    rc, out = run(mlsc, 'dataset', 'croissant', ds)
    r.check(rc == 0, 'croissant clean after --write', out)


def check_diff(mlsc, r, work, ds, key, pub):
    stmt = os.path.join(work, 'ds.json')
    rc, out = run(mlsc, 'dataset', 'manifest', ds, '--unsigned', '-o', stmt)
    r.check(rc == 0 and json.load(open(stmt))['predicateType'] == PREDICATE, 'unsigned statement', out)
    rc, out = run(mlsc, 'dataset', 'manifest', ds, '--key', key)
    bundle = ds + '.manifest.sig'
    rc, out = run(mlsc, 'dataset', 'diff', stmt, bundle, '--public-key', pub)
    r.check(rc != 0, 'diff with a key refuses an unsigned statement', out)
    rc, out = run(mlsc, 'dataset', 'diff', stmt, bundle)
    r.check(rc == 0 and '0 added, 0 removed, 0 changed' in out, 'statement and bundle identical', out)
    copy = os.path.join(work, 'ds2')
    shutil.copytree(ds, copy)
    os.remove(os.path.join(copy, 'test', 'x000.npy'))
    with open(os.path.join(copy, 'labels.csv'), 'a') as f:
        f.write('extra,1\n')
    with open(os.path.join(copy, 'train', 'new.npy'), 'wb') as f:
        np.save(f, np.zeros(3))
    rc, out = run(mlsc, 'dataset', 'diff', bundle, copy, '--format', 'json')
    d = json.loads(out) if rc in (0, 1) else {}
    r.check(rc == 1 and d.get('added') == ['train/new.npy'] and d.get('removed') == ['test/x000.npy']
            and [c['key'] for c in d.get('changed', [])] == ['labels.csv'], 'diff bundle vs directory', out)


def url_name(url):
    return hashlib.sha256(url.encode()).hexdigest()


def check_urls(mlsc, r, work, key, pub):
    fetch = os.path.join(work, 'fetch')
    os.makedirs(fetch)
    urls = ['https://img.example/a.jpg', 'https://img.example/b,c.jpg', 'https://img.example/"q".jpg',
            'https://img.example/d.jpg?size=2&x=1', 'https://img.example/e.jpg']
    rows = []
    for i, u in enumerate(urls):
        content = bytes([i]) * (100 + i)
        with open(os.path.join(fetch, url_name(u)), 'wb') as f:
            f.write(content)
        rows.append({'url': u, 'caption': f'caption, with "quotes"\nand a newline {i}',
                     'sha256': hashlib.sha256(content).hexdigest().upper()})
    lst = os.path.join(work, 'list.csv')
    with open(lst, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=['caption', 'url', 'sha256'])
        w.writeheader()
        w.writerows(rows)
    rc, out = run(mlsc, 'dataset', 'manifest', '--urls', lst, '--key', key)
    bundle = os.path.join(work, 'list.manifest.sig')
    if not r.check(rc == 0 and os.path.exists(bundle), 'manifest of a CSV URL list', out):
        return
    st = statement_of(bundle)
    recs = {x['url']: x['sha256'] for x in st['predicate']['records']}
    r.check(recs == {x['url']: x['sha256'].lower() for x in rows}, 'records carry the list hashes', str(recs))
    r.check(st['subject'][0]['digest']['sha256'] == expected_root(recs), 'URL Merkle root independent')
    rc, out = run(mlsc, 'dataset', 'fetch-verify', '--manifest', bundle, '--fetch-dir', fetch, '--public-key', pub)
    r.check(rc == 0 and '5 accepted, 0 refused' in out, 'fetch-verify accepts recorded content', out)
    # Split-view poisoning: the server now returns other bytes for one URL.
    with open(os.path.join(fetch, url_name(urls[1])), 'wb') as f:
        f.write(b'poisoned')
    os.remove(os.path.join(fetch, url_name(urls[3])))
    with open(os.path.join(fetch, 'stray.jpg'), 'wb') as f:
        f.write(b'x')
    rc, out = run(mlsc, 'dataset', 'fetch-verify', '--manifest', bundle, '--fetch-dir', fetch, '--public-key', pub,
                  '--format', 'json')
    d = json.loads(out) if rc == 1 else {}
    got = sorted((x['status'], x['url']) for x in d.get('refusals', []))
    r.check(rc == 1 and got == sorted([('changed', urls[1]), ('missing', urls[3]), ('not-listed', 'stray.jpg')]),
            'fetch-verify refuses changed, missing and unlisted content', out)

    # JSON Lines without hashes: recorded from the downloaded content instead.
    jl = os.path.join(work, 'list.jsonl')
    with open(jl, 'w') as f:
        for u in urls:
            f.write(json.dumps({'url': u, 'nested': {'a': [1, 2]}}) + '\n')
    stmt = os.path.join(work, 'jl.json')
    rc, out = run(mlsc, 'dataset', 'manifest', '--urls', jl, '--fetch-dir', fetch, '--unsigned', '-o', stmt)
    r.check(rc == 0 and 'left out' in out, 'JSONL list hashed from fetched content, missing one left out', out)
    if rc == 0:
        st = json.load(open(stmt))
        r.check(len(st['predicate']['records']) == 4, 'four records', json.dumps(st)[:300])
        rc, out = run(mlsc, 'dataset', 'fetch-verify', '--manifest', stmt, '--fetch-dir', fetch, '--unsigned')
        r.check(rc == 1 and '4 accepted, 1 refused' in out, 'only the stray file is refused', out)
    rc, out = run(mlsc, 'dataset', 'fetch-verify', '--manifest', stmt, '--fetch-dir', fetch)
    r.check(rc == 2, 'fetch-verify without trust or --unsigned is a usage error', out)

    bad = os.path.join(work, 'bad.csv')
    with open(bad, 'w') as f:
        f.write('url,sha256\n"https://x/unterminated,' + '0' * 64 + '\n')
    rc, out = run(mlsc, 'dataset', 'manifest', '--urls', bad, '--unsigned')
    r.check(rc == 2 and 'unterminated' in out and 'offset 11' in out, 'hostile CSV refused with offset', out)
    pq = os.path.join(work, 'list.parquet')
    open(pq, 'wb').write(b'PAR1')
    rc, out = run(mlsc, 'dataset', 'manifest', '--urls', pq, '--unsigned')
    r.check(rc == 2 and 'Parquet' in out, 'Parquet refused plainly', out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', default='')
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    r = Results()
    got = check_directory(a.mlsc, r, a.work)
    if got:
        ds, key, pub, _ = got
        check_croissant(a.mlsc, r, a.work, ds, key)
        check_diff(a.mlsc, r, a.work, ds, key, pub)
        check_urls(a.mlsc, r, a.work, key, pub)
    rc, out = run(a.mlsc, 'dataset', 'manifest', a.work, '--key', 'k', '--unsigned')
    r.check(rc == 2, '--key with --unsigned is a usage error', out)
    print(f'{r.passed} passed, {r.failed} failed')
    return 0 if r.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
