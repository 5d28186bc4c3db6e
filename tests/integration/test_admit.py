#!/usr/bin/python3
"""End-to-end test of `mlsc admit` with the three persona policies of examples/policies/.

Usage: /usr/bin/python3 tests/integration/test_admit.py --mlsc BIN --work DIR [--shared SHARED]

Real artifacts throughout: a model folder written by torch.save and signed with `mlsc sign`
(openssl keys), a pickle proven malicious (loading it with the real pickle module in a
subprocess creates a marker file), SLSA v1 provenance and dataset manifests signed here with
Python's `cryptography` (an independent DSSE signer: our verifier must accept it), dataset
Merkle roots computed here per RFC 6962 (independently of src/dataset), and an installed-package
folder holding PyYAML 5.3.1 checked against ../shared/data/osv-pypi.

1. Security engineer: release-signed torch model admitted; malicious pickle, wrong key, tampered
   file rejected with the reason; vulnerable environment rejected naming the advisory.
2. Executive: third-party model with trusted provenance whose base model is itself admitted;
   rejected without the base model's evidence, with provenance signed by an untrusted key, or
   with no provenance; an in-house model (no label) needs only its signature.
3. Researcher: base model allowlist by name; dataset from an approved source matching its signed
   manifest admitted; a poisoned file, an unapproved source, an unsigned manifest rejected.
4. Policy errors and usage errors exit 2 and name the line.

Ends with `N passed, M failed`; exit status 0 only when nothing failed.
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness import Results
from sarif_check import catalogue, sarif_problems

PYTHON = '/usr/bin/python3'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICIES = os.path.join(ROOT, 'examples', 'policies')



class Cli:
    def __init__(self, binary):
        self.binary = binary

    def run(self, *args):
        p = subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True, timeout=600)
        return p.returncode, p.stdout, p.stderr

    def admit(self, *args):
        """Exit code and the JSON decision (None when the output is not JSON)."""
        rc, out, err = self.run('admit', *args, '--format', 'json')
        try:
            return rc, json.loads(out), err
        except ValueError:
            return rc, None, out + err


def failed(decision):
    """{rule id: reason} of the failed rules of a decision."""
    if not decision:
        return {}
    return {r['id']: r['reason'] for r in decision['results'] if not r['passed']}


def openssl(*args):
    subprocess.run(['openssl', *map(str, args)], check=True, capture_output=True)


def make_key(folder, name):
    key = os.path.join(folder, name + '.key')
    pub = os.path.join(folder, name + '.pub')
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key)
    openssl('pkey', '-in', key, '-pubout', '-out', pub)
    return key, pub


def pae(payload_type, payload):
    t = payload_type.encode()
    return b'DSSEv1 %d %s %d %s' % (len(t), t, len(payload), payload)


def sign_statement(statement, key_file, pub_file, out):
    """A Sigstore v0.3 bundle with a DSSE envelope, key mode, as the OMS reference writes it."""
    payload = json.dumps(statement, indent=2).encode()
    payload_type = 'application/vnd.in-toto+json'
    with open(key_file, 'rb') as f:
        key = serialization.load_pem_private_key(f.read(), None)
    sig = key.sign(pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
    with open(pub_file, 'rb') as f:
        hint = hashlib.sha256(f.read()).hexdigest()
    bundle = {
        'mediaType': 'application/vnd.dev.sigstore.bundle.v0.3+json',
        'verificationMaterial': {'publicKey': {'hint': hint}, 'tlogEntries': []},
        'dsseEnvelope': {'payload': base64.b64encode(payload).decode(), 'payloadType': payload_type,
                         'signatures': [{'sig': base64.b64encode(sig).decode()}]},
    }
    with open(out, 'w') as f:
        json.dump(bundle, f)
    return out


def model_digest(sig_file):
    """The OMS model digest: the subject digest of the signed statement in a model.sig."""
    with open(sig_file) as f:
        bundle = json.load(f)
    statement = json.loads(base64.b64decode(bundle['dsseEnvelope']['payload']))
    return statement['subject'][0]['digest']['sha256']


def provenance(subject_digest, builder_id, deps, key, pub, out):
    statement = {
        '_type': 'https://in-toto.io/Statement/v1',
        'subject': [{'name': 'model/', 'digest': {'sha256': subject_digest}}],
        'predicateType': 'https://slsa.dev/provenance/v1',
        'predicate': {
            'buildDefinition': {
                'buildType': 'https://mlsc.dev/ml-step/v1',
                'externalParameters': {'step': 'fine-tune', 'command': ['python3', 'train.py']},
                'resolvedDependencies': deps,
            },
            'runDetails': {'builder': {'id': builder_id},
                           'metadata': {'invocationId': 'run-1'}},
        },
    }
    return sign_statement(statement, key, pub, out)


def merkle_root(leaves):
    """RFC 6962 Merkle tree hash over the leaf byte strings."""
    if not leaves:
        return hashlib.sha256(b'').hexdigest()

    def mth(items):
        if len(items) == 1:
            return hashlib.sha256(b'\x00' + items[0]).digest()
        k = 1
        while k * 2 < len(items):
            k *= 2
        return hashlib.sha256(b'\x01' + mth(items[:k]) + mth(items[k:])).digest()
    return mth(leaves).hex()


def dataset_manifest(folder, source, key, pub, out):
    """The dataset-manifest/v1 statement of a folder (contract: leaves `path NUL sha256hex`)."""
    files = []
    for base, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(base, name)
            with open(path, 'rb') as f:
                data = f.read()
            files.append({'path': os.path.relpath(path, folder).replace(os.sep, '/'),
                          'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()})
    files.sort(key=lambda e: e['path'].encode())
    root = merkle_root([e['path'].encode() + b'\x00' + e['sha256'].encode() for e in files])
    statement = {
        '_type': 'https://in-toto.io/Statement/v1',
        'subject': [{'name': os.path.basename(folder), 'digest': {'sha256': root}}],
        'predicateType': 'https://mlsc.dev/dataset-manifest/v1',
        'predicate': {'files': files, 'source': source, 'createdOn': '2026-01-01T00:00:00Z'},
    }
    sign_statement(statement, key, pub, out)
    return root


def torch_model(folder, seed):
    """A model folder the way PyTorch users save one: state_dict via torch.save, plus config."""
    os.makedirs(folder, exist_ok=True)
    code = ('import sys, torch\n'
            'torch.manual_seed(int(sys.argv[2]))\n'
            'm = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))\n'
            'torch.save(m.state_dict(), sys.argv[1] + "/pytorch_model.bin")\n')
    subprocess.run([PYTHON, '-c', code, folder, str(seed)], check=True, capture_output=True)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump({'architectures': ['Sequential'], 'hidden_size': 4}, f)
    return folder


def malicious_model(folder, marker):
    """A pickle whose loading runs a command (touching `marker`); proven with the real loader."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, 'model.pkl')
    code = ('import os, pickle, sys\n'
            'class Payload:\n'
            '    def __reduce__(self):\n'
            '        return (os.system, ("touch " + sys.argv[2],))\n'
            'with open(sys.argv[1], "wb") as f:\n'
            '    pickle.dump({"weights": [0.1, 0.2], "hook": Payload()}, f, protocol=2)\n')
    subprocess.run([PYTHON, '-c', code, path, marker], check=True, capture_output=True)
    subprocess.run([PYTHON, '-c', 'import pickle, sys; pickle.load(open(sys.argv[1], "rb"))', path],
                   capture_output=True)
    return os.path.exists(marker)


def site_packages(folder, packages):
    for name, version in packages:
        info = os.path.join(folder, f'{name}-{version}.dist-info')
        os.makedirs(info, exist_ok=True)
        with open(os.path.join(info, 'METADATA'), 'w') as f:
            f.write(f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n')
    return folder


def persona_dir(work, name, policy, keys, shared=None):
    """A folder holding a copy of an example policy with the keys it names."""
    d = os.path.join(work, name)
    os.makedirs(os.path.join(d, 'keys'))
    shutil.copyfile(os.path.join(POLICIES, policy), os.path.join(d, 'policy.yaml'))
    made = {k: make_key(os.path.join(d, 'keys'), k) for k in keys}
    if shared:
        os.symlink(os.path.abspath(os.path.join(shared, 'data', 'osv-pypi')), os.path.join(d, 'osv-pypi'))
    return d, os.path.join(d, 'policy.yaml'), made


def sign_model(cli, r, folder, key, sig):
    rc, out, err = cli.run('sign', folder, '--key', key, '--signature', sig)
    r.check(rc == 0, f'mlsc sign {os.path.basename(folder)}', out + err)
    return sig


def check_security_engineer(cli, r, work, shared):
    d, policy, keys = persona_dir(work, 'security', 'security-engineer.yaml', ['ci-release', 'mallory'], shared)
    release, mallory = keys['ci-release'], keys['mallory']
    model = torch_model(os.path.join(d, 'model'), 1)
    sig = sign_model(cli, r, model, release[0], os.path.join(d, 'model.sig'))
    rc, dec, err = cli.admit('--policy', policy, model, '--signature', sig)
    r.check(rc == 0 and dec and dec['admitted'], 'security: release-signed torch model admitted', f'{rc} {dec or err}')
    r.check(dec and [x['id'] for x in dec['results']] == ['release-signature', 'no-unsafe-code'],
            'security: both model rules evaluated', str(dec))

    marker = os.path.join(d, 'pwned')
    evil = os.path.join(d, 'evil')
    r.check(malicious_model(evil, marker), 'security: the malicious pickle runs its payload when loaded')
    os.remove(marker)
    evil_sig = sign_model(cli, r, evil, release[0], os.path.join(d, 'evil.sig'))
    rc, dec, err = cli.admit('--policy', policy, evil, '--signature', evil_sig)
    f = failed(dec)
    r.check(rc == 1 and list(f) == ['no-unsafe-code'] and 'model.pkl' in f['no-unsafe-code']
            and 'critical' in f['no-unsafe-code'],
            'security: signed malicious pickle rejected by the scan rule only', f'{rc} {f or err}')
    r.check(not os.path.exists(marker), 'security: admission never loads the pickle')
    rc, out, err = cli.run('admit', '--policy', policy, evil, '--signature', evil_sig, '--format', 'sarif')
    try:
        log = json.loads(out)
        results = log['runs'][0]['results']
        problems = sarif_problems(log, catalogue(cli.binary))
    except (ValueError, KeyError, IndexError) as e:
        results, problems = [], [f'not a SARIF log: {e}: {out[:200]} {err}']
    r.check(rc == 1 and not problems and [x['ruleId'] for x in results] == ['policy.scan']
            and 'no-unsafe-code' in results[0]['message']['text'],
            'security: --format sarif gives one valid result for the failed scan rule',
            f'{rc} {problems} {results}')

    other = torch_model(os.path.join(d, 'other'), 2)
    other_sig = sign_model(cli, r, other, mallory[0], os.path.join(d, 'other.sig'))
    rc, dec, err = cli.admit('--policy', policy, other, '--signature', other_sig)
    f = failed(dec)
    r.check(rc == 1 and list(f) == ['release-signature'] and 'ci-release' in f['release-signature'],
            'security: model signed by another key rejected', f'{rc} {f or err}')

    with open(os.path.join(model, 'config.json'), 'a') as fh:
        fh.write(' ')
    rc, dec, err = cli.admit('--policy', policy, model, '--signature', sig)
    f = failed(dec)
    r.check(rc == 1 and 'config.json' in f.get('release-signature', ''),
            'security: file changed after signing rejected, naming it', f'{rc} {f or err}')

    rc, dec, err = cli.admit('--policy', policy, model)
    r.check(rc == 1 and 'no signature' in failed(dec).get('release-signature', ''),
            'security: unsigned model rejected', f'{rc} {dec or err}')

    env = site_packages(os.path.join(d, 'site-packages'), [('PyYAML', '5.3.1'), ('numpy', '1.26.4')])
    rc, dec, err = cli.admit('--policy', policy, '--kind', 'environment', env)
    reason = failed(dec).get('no-vulnerable-dependencies', '')
    r.check(rc == 1 and 'PYSEC-2021-142' in reason and 'PyYAML 5.3.1' in reason,
            'security: environment with PyYAML 5.3.1 rejected naming the advisory', f'{rc} {dec or err}')
    safe = site_packages(os.path.join(d, 'safe-packages'), [('PyYAML', '6.0.1')])
    rc, dec, err = cli.admit('--policy', policy, '--kind', 'environment', safe)
    r.check(rc == 0, 'security: environment with PyYAML 6.0.1 admitted', f'{rc} {dec or err}')


def check_executive(cli, r, work):
    d, policy, keys = persona_dir(work, 'executive', 'executive.yaml', ['vendor-attestor', 'platform', 'mallory'])
    vendor, platform, mallory = keys['vendor-attestor'], keys['platform'], keys['mallory']
    base = torch_model(os.path.join(d, 'base'), 3)
    base_sig = sign_model(cli, r, base, vendor[0], os.path.join(d, 'base.sig'))
    tuned = torch_model(os.path.join(d, 'tuned'), 4)
    tuned_sig = sign_model(cli, r, tuned, platform[0], os.path.join(d, 'tuned.sig'))
    base_digest, tuned_digest = model_digest(base_sig), model_digest(tuned_sig)
    deps = [{'name': 'vendor/base', 'digest': {'sha256': base_digest},
             'annotations': {'kind': 'base_model'}},
            {'uri': 'git+https://git.example/train@' + 'a' * 40, 'digest': {'gitCommit': 'a' * 40},
             'annotations': {'kind': 'code', 'dirty': False}}]
    tuned_prov = provenance(tuned_digest, 'https://ml-platform.example/builders/train', deps,
                            platform[0], platform[1], os.path.join(d, 'tuned.prov'))
    base_prov = provenance(base_digest, 'https://vendor.example/builders/ml-pipeline', [],
                           vendor[0], vendor[1], os.path.join(d, 'base.prov'))
    common = ['--policy', policy, tuned, '--signature', tuned_sig, '--label', 'third_party']

    rc, dec, err = cli.admit(*common, '--provenance', tuned_prov, '--provenance', base_prov, '--evidence', base_sig)
    r.check(rc == 0 and dec and len(dec['inputs']) == 1 and dec['inputs'][0]['admitted'],
            'executive: third-party model admitted with its base model admitted too', f'{rc} {dec or err}')

    rc, dec, err = cli.admit(*common, '--provenance', tuned_prov, '--provenance', base_prov)
    reason = failed(dec).get('third-party-model-provenance', '')
    r.check(rc == 1 and 'vendor/base' in reason and base_digest in reason and 'not admitted' in reason,
            'executive: base model without its signature rejected, naming the input', f'{rc} {dec or err}')

    rc, dec, err = cli.admit(*common, '--provenance', tuned_prov, '--evidence', base_sig)
    reason = failed(dec).get('third-party-model-provenance', '')
    r.check(rc == 1 and 'vendor/base' in reason and 'no provenance' in reason,
            'executive: base model without provenance rejected (recursion applies the policy)', f'{rc} {dec or err}')

    forged = provenance(tuned_digest, 'https://ml-platform.example/builders/train', deps,
                        mallory[0], mallory[1], os.path.join(d, 'forged.prov'))
    rc, dec, err = cli.admit(*common, '--provenance', forged, '--provenance', base_prov, '--evidence', base_sig)
    reason = failed(dec).get('third-party-model-provenance', '')
    r.check(rc == 1 and 'not signed by a key of builder platform-ci' in reason,
            'executive: provenance signed by an untrusted key rejected', f'{rc} {dec or err}')

    rc, dec, err = cli.admit(*common)
    r.check(rc == 1 and 'no provenance' in failed(dec).get('third-party-model-provenance', ''),
            'executive: third-party model without provenance rejected', f'{rc} {dec or err}')
    rc, dec, err = cli.admit('--policy', policy, tuned, '--signature', tuned_sig)
    r.check(rc == 0 and dec and [x['id'] for x in dec['results']] == ['model-signed'],
            'executive: in-house model needs only its signature', f'{rc} {dec or err}')

    rc, out, err = cli.run('admit', *common, '--provenance', tuned_prov, '--provenance', base_prov)
    r.check(rc == 1 and out.startswith('REJECT  model') and 'FAIL  third-party-model-provenance' in out
            and '    REJECT  model  vendor/base' in out, 'executive: text report lists failed rules and inputs', out + err)


def check_researcher(cli, r, work):
    d, policy, keys = persona_dir(work, 'research', 'researcher.yaml', ['data-team', 'mallory'])
    team, mallory = keys['data-team'], keys['mallory']
    approved = torch_model(os.path.join(d, 'approved-resnet'), 5)
    rc, dec, err = cli.admit('--policy', policy, approved)
    r.check(rc == 0, 'researcher: approved base model admitted', f'{rc} {dec or err}')
    unknown = torch_model(os.path.join(d, 'random-model'), 6)
    rc, dec, err = cli.admit('--policy', policy, unknown)
    r.check(rc == 1 and list(failed(dec)) == ['approved-base-model'],
            'researcher: base model not on the allowlist rejected', f'{rc} {dec or err}')

    corpus = os.path.join(d, 'corpus')
    os.makedirs(os.path.join(corpus, 'train'))
    for i in range(3):
        with open(os.path.join(corpus, 'train', f'shard-{i}.jsonl'), 'w') as fh:
            fh.write(json.dumps({'text': f'record {i}'}) + '\n')
    manifest = os.path.join(d, 'corpus.manifest.sig')
    dataset_manifest(corpus, 'https://data.example/approved/corpus-v1', team[0], team[1], manifest)
    args = ['--policy', policy, '--kind', 'dataset', corpus, '--manifest', manifest]
    rc, dec, err = cli.admit(*args)
    r.check(rc == 0, 'researcher: dataset from an approved source matching its manifest admitted', f'{rc} {dec or err}')

    with open(os.path.join(corpus, 'train', 'shard-1.jsonl'), 'w') as fh:
        fh.write(json.dumps({'text': 'poisoned'}) + '\n')
    rc, dec, err = cli.admit(*args)
    reason = failed(dec).get('approved-sources', '')
    r.check(rc == 1 and 'train/shard-1.jsonl' in reason, 'researcher: poisoned shard rejected, naming it',
            f'{rc} {dec or err}')

    scraped = os.path.join(d, 'scraped.manifest.sig')
    dataset_manifest(corpus, 'https://pastebin.example/dump', team[0], team[1], scraped)
    rc, dec, err = cli.admit('--policy', policy, '--kind', 'dataset', corpus, '--manifest', scraped)
    r.check(rc == 1 and 'not an allowed source' in failed(dec).get('approved-sources', ''),
            'researcher: dataset from an unapproved source rejected', f'{rc} {dec or err}')

    forged = os.path.join(d, 'forged.manifest.sig')
    dataset_manifest(corpus, 'https://data.example/approved/corpus-v1', mallory[0], mallory[1], forged)
    rc, dec, err = cli.admit('--policy', policy, '--kind', 'dataset', corpus, '--manifest', forged)
    f = failed(dec)
    r.check(rc == 1 and 'manifest-signed' in f and 'untrusted' in f.get('approved-sources', ''),
            'researcher: manifest signed by an unknown key rejected', f'{rc} {f or err}')


def check_errors(cli, r, work):
    d = os.path.join(work, 'errors')
    os.makedirs(d)
    bad = os.path.join(d, 'bad.yaml')
    with open(bad, 'w') as f:
        f.write('version: 1\nrules:\n  model:\n    - scan: {max_severity: low}\n    - singature: {}\n')
    rc, out, err = cli.run('admit', '--policy', bad, d)
    r.check(rc == 2 and 'bad.yaml:5: unknown key \'singature\'' in err, 'errors: unknown key exits 2 naming the line',
            f'{rc} {err}')
    with open(bad, 'w') as f:
        f.write('version: 1\nx: &a [1]\nrules: {model: [*a]}\n')
    rc, out, err = cli.run('admit', '--policy', bad, d)
    r.check(rc == 2 and 'aliases' in err, 'errors: YAML aliases refused', f'{rc} {err}')
    good = os.path.join(POLICIES, 'researcher.yaml')
    rc, out, err = cli.run('admit', '--policy', good, os.path.join(d, 'missing'))
    r.check(rc == 2, 'errors: missing artifact exits 2', f'{rc} {err}')
    rc, out, err = cli.run('admit', '--policy', good, d, '--provenance', os.path.join(d, 'missing.prov'))
    r.check(rc == 2, 'errors: missing evidence exits 2', f'{rc} {err}')
    rc, out, err = cli.run('admit', d)
    r.check(rc == 2, 'errors: --policy is required', f'{rc} {err}')
    for name in sorted(os.listdir(POLICIES)):
        rc, out, err = cli.run('admit', '--policy', os.path.join(POLICIES, name), d, '--kind', 'dataset')
        r.check(rc in (0, 1), f'errors: example {name} parses', f'{rc} {err}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', default=os.path.join(ROOT, '..', 'shared'))
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    cli = Cli(a.mlsc)
    r = Results()
    check_security_engineer(cli, r, a.work, a.shared)
    check_executive(cli, r, a.work)
    check_researcher(cli, r, a.work)
    check_errors(cli, r, a.work)
    print(f'{r.passed} passed, {r.failed} failed')
    return 0 if r.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
