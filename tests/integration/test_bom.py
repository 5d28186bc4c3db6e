#!/usr/bin/python3
"""End-to-end test of `mlsc bom` and `mlsc bom validate`.

Usage: /usr/bin/python3 tests/integration/test_bom.py --mlsc BIN --work DIR --shared SHARED

1. Generates fixtures with tests/fixtures/make_bom_fixtures.py: a real model folder (torch.save +
   safetensors + config.json + model card), the same model in hub-cache layout (with a symlink
   that escapes the cache), a GGUF file, and a Python project with every lock/requirements format.
2. Runs `mlsc bom` on each, and on the real Debian environment /usr/lib/python3/dist-packages,
   in CycloneDX and SPDX form, and checks every BOM
   - against the official schemas with python3-jsonschema (CycloneDX: draft-07 with the
     http://cyclonedx.org/schema/ prefix mapped to SHARED/specs/cyclonedx, offline; SPDX 3.0.1:
     draft 2020-12), and
   - with `mlsc bom validate` (exit 0),
   and checks the content: file hashes, parameter count, dtypes, architecture, task, license,
   base model, datasets, metrics, purls, hashes, versions of torch/numpy, escape link not hashed.
3. Differential test of the validator: CycloneDX's own ML examples are valid for both
   validators; mutated BOMs must be judged the same way by python3-jsonschema and by mlsc.
4. Exit codes: 2 for a missing path / unreadable file, 1 for an invalid BOM.

Ends with `N passed, M failed`; exit status 0 only when nothing failed.
"""

import argparse
import copy
import json
import os
import subprocess
import sys

import jsonschema

from harness import Results

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAKE = os.path.join(ROOT, 'tests', 'fixtures', 'make_bom_fixtures.py')
PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
TS = '2024-05-01T12:00:00Z'



def format_checker(base):
    """python3-jsonschema's checker plus the two formats the BOM schemas use that it only checks
    with optional modules Debian does not install (rfc3339-validator, rfc3987): date-time per
    RFC 3339 and a lexical IRI-reference check, the same rules mlsc applies."""
    checker = copy.deepcopy(base)

    @checker.checks('date-time')
    def date_time(value):
        if not isinstance(value, str):
            return True
        import datetime
        import re
        if not re.fullmatch(r'\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)', value):
            return False
        try:
            datetime.datetime.fromisoformat(value[:19])
        except ValueError:
            return False
        return True

    @checker.checks('iri-reference')
    def iri_reference(value):
        if not isinstance(value, str):
            return True
        return not any(ord(c) <= 0x20 or ord(c) == 0x7f or c in '<>"{}|\\^`' for c in value)

    return checker


class Validators:
    def __init__(self, shared):
        cdx_dir = os.path.join(shared, 'specs', 'cyclonedx')
        store = {}
        for name in ('bom-1.6.schema.json', 'spdx.schema.json', 'jsf-0.82.schema.json'):
            with open(os.path.join(cdx_dir, name)) as f:
                store['http://cyclonedx.org/schema/' + name] = json.load(f)
        cdx = store['http://cyclonedx.org/schema/bom-1.6.schema.json']
        resolver = jsonschema.RefResolver(base_uri=cdx['$id'], referrer=cdx, store=store)
        self.cdx = jsonschema.Draft7Validator(cdx, resolver=resolver,
                                              format_checker=format_checker(jsonschema.Draft7Validator.FORMAT_CHECKER))
        with open(os.path.join(shared, 'specs', 'spdx3', 'spdx-3.0.1-schema.json')) as f:
            spdx = json.load(f)
        self.spdx = jsonschema.Draft202012Validator(
            spdx, format_checker=format_checker(jsonschema.Draft202012Validator.FORMAT_CHECKER))

    def errors(self, doc):
        v = self.cdx if doc.get('bomFormat') == 'CycloneDX' else self.spdx
        return [f'{"/".join(map(str, e.absolute_path))}: {e.message[:200]}' for e in v.iter_errors(doc)]


def run(mlsc, *args):
    return subprocess.run([mlsc, *args], capture_output=True, text=True)


def make_bom(r, mlsc, work, validators, name, paths, fmt='cyclonedx'):
    out = os.path.join(work, f'{name}.{fmt}.json')
    p = run(mlsc, 'bom', *paths, '--format', fmt, '--timestamp', TS, '-o', out)
    r.check(p.returncode == 0, f'{name} {fmt}: exit 0', p.stderr)
    if p.returncode != 0:
        return None
    with open(out) as f:
        doc = json.load(f)
    errs = validators.errors(doc)
    r.check(not errs, f'{name} {fmt}: python3-jsonschema accepts it', '; '.join(errs[:5]))
    v = run(mlsc, 'bom', 'validate', out)
    r.check(v.returncode == 0, f'{name} {fmt}: mlsc bom validate accepts it', v.stdout[-2000:] + v.stderr)
    again = run(mlsc, 'bom', *paths, '--format', fmt, '--timestamp', TS)
    with open(out) as f:
        r.check(again.stdout == f.read(), f'{name} {fmt}: reproducible with --timestamp')
    return doc


def components(doc):
    out = []
    stack = list(doc.get('components', []))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(c.get('components', []))
    return out


def props(c, name):
    return [p['value'] for p in c.get('properties', []) if p['name'] == name]


def check_model(r, doc, expected, hub):
    label = 'hub' if hub else 'folder'
    models = [c for c in doc['components'] if c['type'] == 'machine-learning-model' and 'modelCard' in c]
    r.check(len(models) == 1, f'{label}: one model component', str(len(models)))
    if not models:
        return
    m = models[0]
    files = {f['name']: f['hashes'][0]['content'] for f in m.get('components', [])}
    r.check(files == expected['model_files'], f'{label}: SHA-256 of every file', json.dumps(files))
    r.check(props(m, 'mlsc:model:parameterCount') == [str(expected['parameters'])], f'{label}: parameter count',
            str(props(m, 'mlsc:model:parameterCount')))
    r.check(props(m, 'mlsc:model:dtypes') == ['F16,F32,I64'], f'{label}: dtypes', str(props(m, 'mlsc:model:dtypes')))
    fmt = props(m, 'mlsc:model:format')
    r.check(fmt and 'safetensors' in fmt[0] and ('pytorch' in fmt[0] or not expected['has_torch_bin']),
            f'{label}: formats', str(fmt))
    card = m['modelCard']
    r.check(card['modelParameters'].get('task') == 'text-classification', f'{label}: task')
    r.check(card['modelParameters'].get('architectureFamily') == 'bert', f'{label}: architecture family')
    r.check(card['modelParameters'].get('modelArchitecture') == 'BertForSequenceClassification',
            f'{label}: architecture')
    metrics = {(x['type'], x['value']) for x in card['quantitativeAnalysis']['performanceMetrics']}
    r.check(metrics == {('accuracy', '0.8612'), ('f1', '0.8577'), ('accuracy', '0.79')}, f'{label}: metrics',
            str(metrics))
    r.check('technicalLimitations' in card.get('considerations', {}), f'{label}: limitations from README')
    r.check(m['licenses'][0]['license'].get('id') == 'Apache-2.0', f'{label}: license')
    refs = {c['bom-ref']: c for c in doc['components']}
    deps = {d['ref']: d.get('dependsOn', []) for d in doc['dependencies']}
    r.check('model:prajjwal1/bert-tiny' in deps.get(m['bom-ref'], []), f'{label}: dependsOn base model')
    base = refs.get('model:prajjwal1/bert-tiny', {})
    r.check(base.get('purl') == 'pkg:huggingface/prajjwal1/bert-tiny', f'{label}: base model purl')
    for ds in ('glue', 'imdb', 'rotten_tomatoes'):
        r.check(refs.get(f'dataset:{ds}', {}).get('type') == 'data', f'{label}: data component {ds}')
    langs = props(m, 'mlsc:model:language')
    r.check(langs == ['en'], f'{label}: language', str(langs))
    if hub:
        r.check(m.get('purl') == f'pkg:huggingface/acme/tiny-sentiment@{expected["hub_commit"]}', 'hub: purl',
                m.get('purl', ''))
        r.check('escape.txt' not in files, 'hub: link out of the cache not hashed')
        r.check(any('leaves the model folder' in n for n in props(m, 'mlsc:note')), 'hub: escape noted')


def check_project(r, doc):
    by_purl = {c.get('purl'): c for c in doc['components'] if c['type'] == 'library'}
    numpy = by_purl.get('pkg:pypi/numpy@1.24.2')
    r.check(numpy is not None, 'project: numpy pinned', str(sorted(k for k in by_purl if k)))
    if numpy:
        hashes = {h['content'] for h in numpy.get('hashes', [])}
        r.check(len(hashes) >= 3, 'project: numpy hashes from requirements and uv.lock merged', str(hashes))
    torch = by_purl.get('pkg:pypi/torch@1.13.1%2Bcu117')
    r.check(torch is not None and props(torch, 'mlsc:package:marker') == ['platform_system == "Linux"'],
            'project: torch marker and local version')
    for purl in ('pkg:pypi/scipy@1.10.1', 'pkg:pypi/safetensors@0.3.1', 'pkg:pypi/urllib3',
                 'pkg:pypi/pytest@7.4.0', 'pkg:pypi/certifi@2023.7.22', 'pkg:pypi/requests@2.31.0',
                 'pkg:pypi/tqdm@4.66.1', 'pkg:pypi/joblib@1.2.0', 'pkg:pypi/scikit-learn@1.2.1',
                 'pkg:pypi/tokenizers@0.13.3', 'pkg:pypi/transformers', 'pkg:pypi/acme-featurizer',
                 'pkg:pypi/sentencepiece@0.1.99', 'pkg:pypi/private-utils@0.1.0', 'pkg:pypi/uvicorn@0.23.2'):
        r.check(purl in by_purl, f'project: {purl}')
    constraint = by_purl.get('pkg:pypi/urllib3', {})
    r.check(props(constraint, 'mlsc:package:scope') == ['constraint'], 'project: -c marks a constraint')
    apps = [c for c in doc['components'] if c['type'] == 'application']
    r.check([a['name'] for a in apps] == ['acme-sentiment'], 'project: pyproject project component')
    meta = [p['value'] for p in doc['metadata'].get('properties', []) if p['name'] == 'mlsc:packageIndex']
    r.check(any('download.pytorch.org' in m for m in meta), 'project: extra index URL recorded', str(meta))


def check_debian(r, doc, label):
    by_name = {}
    for c in doc['components']:
        if c['type'] == 'library' and c.get('purl', '').startswith('pkg:pypi/'):
            by_name[c['name'].lower()] = c
    import numpy
    import torch
    r.check(by_name.get('numpy', {}).get('version') == numpy.__version__, f'{label}: numpy version',
            by_name.get('numpy', {}).get('version', 'missing'))
    r.check(by_name.get('torch', {}).get('version', '').startswith(torch.__version__.split('+')[0]),
            f'{label}: torch version', by_name.get('torch', {}).get('version', 'missing'))
    for name in ('scipy', 'jsonschema', 'pyyaml', 'setuptools'):
        r.check(name in by_name, f'{label}: {name} listed')
    notes = [p['value'] for p in doc['metadata'].get('properties', []) if p['name'] == 'mlsc:note']
    r.check(not any('RECORD' in n for n in notes), f'{label}: every RECORD parses', '; '.join(notes[:3]))
    recorded = [c for c in by_name.values() if props(c, 'mlsc:package:recordSha256')]
    r.check(len(recorded) >= 10, f'{label}: RECORD digests of the dist-info packages', str(len(recorded)))
    deps = {d['ref']: d.get('dependsOn', []) for d in doc['dependencies']}
    r.check(any('pkg:pypi/attrs@' in t for t in deps.get(by_name.get('jsonschema', {}).get('bom-ref'), [])),
            f'{label}: jsonschema dependsOn attrs (Requires-Dist)')
    print(f'{label}: {len(doc["components"])} components, {len(by_name)} PyPI packages, '
          f'{sum(1 for d in doc["dependencies"] if d.get("dependsOn"))} with dependencies')
    return len(by_name)


def check_spdx(r, doc, label):
    types = {}
    for e in doc['@graph']:
        types[e['type']] = types.get(e['type'], 0) + 1
    rels = {e['relationshipType'] for e in doc['@graph'] if e['type'] == 'Relationship'}
    return types, rels


def differential(r, mlsc, work, validators, shared):
    cdx_dir = os.path.join(shared, 'specs', 'cyclonedx')
    docs = []
    for name in sorted(os.listdir(cdx_dir)):
        if name.startswith('valid-machine-learning'):
            with open(os.path.join(cdx_dir, name)) as f:
                docs.append((name, json.load(f)))
    base = docs[0][1]
    mutations = []

    def mutate(label, fn, src=base):
        d = copy.deepcopy(src)
        fn(d)
        mutations.append((label, d))

    mutate('type enum', lambda d: d['components'][0].__setitem__('type', 'model'))
    mutate('missing name', lambda d: d['components'][0].pop('name'))
    mutate('bad serial', lambda d: d.__setitem__('serialNumber', 'urn:uuid:x'))
    mutate('hash too short', lambda d: d['components'][0].__setitem__('hashes', [{'alg': 'SHA-256', 'content': 'ab'}]))
    mutate('hash alg', lambda d: d['components'][0].__setitem__('hashes', [{'alg': 'SHA-999', 'content': 'ab' * 32}]))
    mutate('extra top-level', lambda d: d.__setitem__('extra', 1))
    mutate('version string', lambda d: d.__setitem__('version', '1'))
    mutate('approach enum', lambda d: d['components'][0]['modelCard']['modelParameters'].__setitem__(
        'approach', {'type': 'magic'}))
    mutate('metric value type', lambda d: d['components'][0]['modelCard'].__setitem__(
        'quantitativeAnalysis', {'performanceMetrics': [{'type': 'acc', 'value': 0.9}]}))
    mutate('license id', lambda d: d['components'][0].__setitem__('licenses', [{'license': {'id': 'Not-A-License'}}]))
    mutate('timestamp', lambda d: d.__setitem__('metadata', {'timestamp': 'yesterday'}))
    mutate('leap day', lambda d: d.__setitem__('metadata', {'timestamp': '2023-02-29T10:00:00Z'}))
    mutate('url with space', lambda d: d['components'][0].__setitem__('externalReferences', [{'type': 'website', 'url': 'a b'}]))
    mutate('dataset ref shape', lambda d: d['components'][0]['modelCard']['modelParameters'].__setitem__(
        'datasets', [{'ref': 1}]))
    cases = docs + mutations
    agree = 0
    for label, d in cases:
        path = os.path.join(work, 'diff.json')
        with open(path, 'w') as f:
            json.dump(d, f)
        py_valid = not validators.errors(d)
        p = run(mlsc, 'bom', 'validate', path)
        ours = p.returncode == 0
        ok = py_valid == ours and p.returncode in (0, 1)
        agree += ok
        r.check(ok, f'validator agrees with python3-jsonschema: {label}',
                f'python valid={py_valid}, mlsc rc={p.returncode}: {p.stdout[-500:]}')
    print(f'validator differential: {agree}/{len(cases)} agree')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', required=True)
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    fx = os.path.join(work, 'fixtures')
    subprocess.run([PYTHON, MAKE, fx], check=True, capture_output=True)
    with open(os.path.join(fx, 'expected.json')) as f:
        expected = json.load(f)
    validators = Validators(args.shared)
    r = Results()

    folder = make_bom(r, args.mlsc, work, validators, 'model-folder', [os.path.join(fx, 'model', 'tiny-sentiment')])
    if folder:
        check_model(r, folder, expected, hub=False)
    hub = make_bom(r, args.mlsc, work, validators, 'hub-cache', [os.path.join(fx, 'hub')])
    if hub:
        check_model(r, hub, expected, hub=True)
    gguf = make_bom(r, args.mlsc, work, validators, 'gguf', [os.path.join(fx, 'model', 'tiny.gguf')])
    if gguf:
        m = gguf['components'][0]
        r.check(props(m, 'mlsc:model:parameterCount') == [str(expected['gguf_parameters'])], 'gguf: parameters')
        r.check(props(m, 'mlsc:model:dtypes') == ['F32,Q8_0'], 'gguf: tensor types', str(props(m, 'mlsc:model:dtypes')))
        r.check(m['hashes'][0]['content'] == expected['gguf_sha256'], 'gguf: file hash')
    project = make_bom(r, args.mlsc, work, validators, 'project', [os.path.join(fx, 'project')])
    if project:
        check_project(r, project)
    debian = make_bom(r, args.mlsc, work, validators, 'debian-env', ['/usr/lib/python3/dist-packages'])
    if debian:
        check_debian(r, debian, 'debian-env')
    env = make_bom(r, args.mlsc, work, validators, 'cuda-env', [os.path.join(fx, 'env')])
    if env:
        runtime = {(c['name'], c.get('version')) for c in env['components'] if c.get('group') == 'nvidia'}
        for piece in (('cuda-runtime', '11.7'), ('cuda-runtime', '11.0'), ('cuda-runtime', '11.7.0'),
                      ('cudnn', '8'), ('cudnn', '8.5.0.96'), ('nvrtc', '11.2')):
            r.check(piece in runtime, f'cuda-env: runtime {piece}', str(sorted(runtime)))
        purls = {c.get('purl') for c in env['components']}
        r.check('pkg:conda/cudatoolkit@11.7.0?build=hd8887f6_10&channel=nvidia&subdir=linux-64' in purls,
                'cuda-env: conda purl', str(sorted(p for p in purls if p)))
        torch = [c for c in env['components'] if c.get('purl') == 'pkg:pypi/torch@1.13.1%2Bcu117']
        r.check(len(torch) == 1 and props(torch[0], 'mlsc:package:recordHashedFiles') == ['2'],
                'cuda-env: torch RECORD read')
        deps = {d['ref']: d.get('dependsOn', []) for d in env['dependencies']}
        r.check(deps.get('pkg:pypi/torch@1.13.1%2Bcu117') ==
                ['pkg:pypi/nvidia-cudnn-cu11@8.5.0.96', 'pkg:pypi/typing-extensions@4.4.0'],
                'cuda-env: torch dependsOn cudnn wheel and typing-extensions',
                str(deps.get('pkg:pypi/torch@1.13.1%2Bcu117')))
    everything = [os.path.join(fx, 'model', 'tiny-sentiment'), os.path.join(fx, 'hub'), os.path.join(fx, 'project'),
                  '/usr/lib/python3/dist-packages']
    spdx = make_bom(r, args.mlsc, work, validators, 'all', everything, 'spdx')
    if spdx:
        types, rels = check_spdx(r, spdx, 'all')
        for t in ('ai_AIPackage', 'dataset_DatasetPackage', 'software_Package', 'software_File', 'SpdxDocument'):
            r.check(types.get(t, 0) > 0, f'spdx: {t} present')
        for rel in ('ancestorOf', 'trainedOn', 'testedOn', 'dependsOn', 'contains', 'hasDeclaredLicense'):
            r.check(rel in rels, f'spdx: {rel} relationship')
        print('spdx element types:', json.dumps(types, sort_keys=True))
    make_bom(r, args.mlsc, work, validators, 'all', everything, 'cyclonedx')

    differential(r, args.mlsc, work, validators, args.shared)

    p = run(args.mlsc, 'bom', os.path.join(work, 'does-not-exist'))
    r.check(p.returncode == 2, 'missing path: exit 2', str(p.returncode))
    p = run(args.mlsc, 'bom', 'validate', os.path.join(work, 'does-not-exist.json'))
    r.check(p.returncode == 2, 'validate unreadable file: exit 2', str(p.returncode))
    bad = os.path.join(work, 'bad.json')
    with open(bad, 'w') as f:
        f.write('{"bomFormat": "CycloneDX", "specVersion": "1.6"')
    p = run(args.mlsc, 'bom', 'validate', bad)
    r.check(p.returncode == 1 and 'not JSON' in p.stdout, 'validate broken JSON: exit 1 with reason', p.stdout)

    print(f'{r.passed} passed, {r.failed} failed')
    return 1 if r.failed else 0


if __name__ == '__main__':
    sys.exit(main())
