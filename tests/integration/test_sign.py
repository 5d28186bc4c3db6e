#!/usr/bin/python3
"""End-to-end test of `mlsc sign` and `mlsc verify` (OpenSSF Model Signing bundles).

Usage: /usr/bin/python3 tests/integration/test_sign.py --mlsc BIN --work DIR [--shared SHARED]

1. Every golden bundle of the reference signer (0.2.0 to 1.1.0) verifies through the CLI, in the
   mode and with the options the reference's own tests use (vectors/model-signing/README.md):
   key and certificate mode always, Sigstore mode against the public-good trusted root.
2. The spec's valid vectors verify; its invalid vectors exit 1 with a specific failure code.
3. Keys made with the openssl CLI (P-256, P-384, P-521, Ed25519) sign and verify with every hash
   type and in shard mode; the bundles we write are checked independently with Python's
   `cryptography` (DSSE PAE, curve hash, publicKey.hint = SHA-256 of the PEM text).
4. Tampering exits 1 and names the file: a flipped byte, a renamed file, an added file; a wrong
   key, a truncated bundle exit 1; usage and I/O errors exit 2; --help works for both verbs.
5. `--reuse` re-hashes nothing the second time and only the changed file the third.

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
import time

from harness import Results

GOLDEN_KEY_AND_CERT = [
    # folder, model is the single file signme-1, --ignore-paths ignore-me
    ('v0.2.0-certificate', False, False), ('v0.3.1-certificate', False, False),
    ('v1.0.0-certificate', False, False), ('v1.0.1-certificate', False, True),
    ('v1.1.0-certificate', False, True), ('v0.3.1-elliptic-key', True, False),
    ('v1.0.0-elliptic-key', True, False), ('v1.0.1-elliptic-key', False, True),
    ('v1.1.0-elliptic-key', False, True),
]
GOLDEN_SIGSTORE = [('v0.3.1-sigstore', False), ('v1.0.0-sigstore', False),
                   ('v1.0.1-sigstore', True), ('v1.1.0-sigstore', True)]
SIGSTORE_IDENTITY = 'stefanb@us.ibm.com'
SIGSTORE_ISSUER = 'https://sigstore.verify.ibm.com/oauth2'



class Cli:
    def __init__(self, binary):
        self.binary = binary

    def run(self, *args):
        p = subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True, timeout=600)
        return p.returncode, p.stdout, p.stderr

    def verify_json(self, *args):
        rc, out, err = self.run('verify', *args, '--format', 'json')
        try:
            return rc, json.loads(out), err
        except ValueError:
            return rc, None, out + err


def codes(report):
    return [f['code'] for f in report['failures']] if report else []


def copy_model(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    for name in os.listdir(src):
        if name != 'model.sig':
            shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    return dst


def openssl(*args):
    subprocess.run(['openssl', *map(str, args)], check=True, capture_output=True)


def check_goldens(cli, r, vectors, shared):
    goldens = os.path.join(vectors, 'golden-bundles')
    keys = os.path.join(goldens, 'keys', 'certificate')
    for folder, single, ignore in GOLDEN_KEY_AND_CERT:
        d = os.path.join(goldens, folder)
        trust = (['--trust-anchor', os.path.join(keys, 'ca-cert.pem')] if folder.endswith('certificate')
                 else ['--public-key', os.path.join(keys, 'signing-key-pub.pem')])
        extra = ['--ignore-paths', 'ignore-me'] if ignore else []
        model = os.path.join(d, 'signme-1') if single else d
        rc, rep, err = cli.verify_json(model, '--signature', os.path.join(d, 'model.sig'), *trust, *extra)
        r.check(rc == 0 and rep and rep['ok'], f'golden {folder} verifies', f'rc={rc} {rep or err}')
    root = os.path.join(shared, 'vectors', 'sigstore', 'trusted-root-public-good.json')
    for folder, ignore in GOLDEN_SIGSTORE:
        d = os.path.join(goldens, folder)
        extra = ['--ignore-paths', 'ignore-me'] if ignore else []
        args = [d, '--signature', os.path.join(d, 'model.sig'), '--trusted-root', root]
        rc, rep, err = cli.verify_json(*args, '--identity', SIGSTORE_IDENTITY, '--issuer', SIGSTORE_ISSUER, *extra)
        r.check(rc == 0 and rep and rep['ok'], f'golden {folder} verifies (sigstore)', f'rc={rc} {rep or err}')
        rc, rep, _ = cli.verify_json(*args, '--identity', 'mallory@example.com', '--issuer', SIGSTORE_ISSUER, *extra)
        r.check(rc == 1 and codes(rep) == ['sigstore.unverified'], f'golden {folder}: wrong identity rejected',
                f'rc={rc} {rep}')


def check_spec_vectors(cli, r, vectors, work):
    spec = os.path.join(vectors, 'spec-test-vectors')
    keys = os.path.join(vectors, 'golden-bundles', 'keys', 'certificate')
    model = copy_model(os.path.join(vectors, 'golden-bundles', 'v1.1.0-elliptic-key'), os.path.join(work, 'spec-model'))
    pub = ['--public-key', os.path.join(keys, 'signing-key-pub.pem')]
    for vector, trust in [('valid/key.bundle.json', pub),
                          ('valid/certificate.bundle.json', ['--trust-anchor', os.path.join(keys, 'ca-cert.pem')])]:
        rc, rep, err = cli.verify_json(model, '--signature', os.path.join(spec, vector), *trust)
        r.check(rc == 0, f'spec {vector} verifies', f'rc={rc} {rep or err}')
    for vector, code in [('invalid/empty.bundle.json', 'bundle.malformed'),
                         ('invalid/missing-envelope.bundle.json', 'bundle.malformed'),
                         ('invalid/missing-verification-material.bundle.json', 'bundle.malformed'),
                         ('invalid/missing-tlog-entries.bundle.json', 'bundle.material_mismatch'),
                         ('invalid-payload/wrong-predicate.bundle.json', 'signature.invalid')]:
        rc, rep, err = cli.verify_json(model, '--signature', os.path.join(spec, vector), *pub)
        r.check(rc == 1 and codes(rep) == [code], f'spec {vector} rejected ({code})', f'rc={rc} {rep or err}')


def independent_check(bundle_path, pub_pem_path):
    """Verifies a key-mode bundle with Python's cryptography, not with mlsc."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    bundle = json.load(open(bundle_path))
    pem = open(pub_pem_path, 'rb').read()
    key = serialization.load_pem_public_key(pem[pem.index(b'-----BEGIN'):])
    spki_pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if bundle['verificationMaterial']['publicKey']['hint'] != hashlib.sha256(spki_pem).hexdigest():
        return 'hint is not SHA-256 of the PEM text'
    env = bundle['dsseEnvelope']
    payload = base64.b64decode(env['payload'], validate=True)
    ptype = env['payloadType'].encode()
    pae = b'DSSEv1 %d %s %d %s' % (len(ptype), ptype, len(payload), payload)
    sig = base64.b64decode(env['signatures'][0]['sig'], validate=True)
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(sig, pae)
    else:
        digest = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[key.curve.key_size]
        key.verify(sig, pae, ec.ECDSA(digest))
    statement = json.loads(payload)
    if statement['predicateType'] != 'https://model_signing/signature/v1.0':
        return 'wrong predicateType'
    return None


def make_model(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, 'sub'))
    with open(os.path.join(path, 'weights.bin'), 'wb') as f:
        f.write(bytes(i % 251 for i in range(300000)))
    with open(os.path.join(path, 'config.json'), 'w') as f:
        f.write('{"layers": 3}')
    with open(os.path.join(path, 'sub', 'tokenizer.json'), 'w') as f:
        f.write('{}')
    old = time.time() - 120  # older than the incremental cache's racy window
    for root, _, files in os.walk(path):
        for name in files:
            os.utime(os.path.join(root, name), (old, old))
    return path


def check_round_trips(cli, r, work):
    model = make_model(os.path.join(work, 'model'))
    sig = os.path.join(work, 'model.sig')
    for curve in ['P-256', 'P-384', 'P-521', 'ED25519']:
        key = os.path.join(work, f'{curve}.key')
        pub = os.path.join(work, f'{curve}.pub')
        alg = ['-algorithm', 'ED25519'] if curve == 'ED25519' else ['-algorithm', 'EC', '-pkeyopt',
                                                                    f'ec_paramgen_curve:{curve}']
        openssl('genpkey', *alg, '-out', key)
        openssl('pkey', '-in', key, '-pubout', '-out', pub)
        for hash_type in ['sha256', 'blake2b', 'blake3']:
            for shard in [[], ['--shard-size', '65536']]:
                name = f'{curve}/{hash_type}{"/shards" if shard else ""}'
                rc, out, err = cli.run('sign', model, '--key', key, '--signature', sig, '--hash', hash_type, *shard)
                if not r.check(rc == 0, f'sign {name}', out + err):
                    continue
                rc, rep, err = cli.verify_json(model, '--signature', sig, '--public-key', pub)
                r.check(rc == 0 and rep['ok'], f'verify {name}', f'rc={rc} {rep or err}')
                try:
                    problem = independent_check(sig, pub)
                except Exception as e:  # an InvalidSignature or a malformed field
                    problem = repr(e)
                r.check(problem is None, f'independent check of our bundle {name}', str(problem))


def check_tampering(cli, r, work, vectors):
    keys = os.path.join(vectors, 'golden-bundles', 'keys', 'certificate')
    key, pub = os.path.join(keys, 'signing-key.pem'), os.path.join(keys, 'signing-key-pub.pem')
    model = make_model(os.path.join(work, 'tamper'))
    sig = os.path.join(work, 'tamper.sig')
    rc, out, err = cli.run('sign', model, '--key', key, '--signature', sig)
    r.check(rc == 0 and 'hashed:' in out, 'sign for tampering tests', out + err)

    def verify(*extra, signature=sig, public=pub):
        return cli.verify_json(model, '--signature', signature, '--public-key', public, *extra)

    rc, rep, _ = verify()
    r.check(rc == 0, 'untouched model verifies', str(rep))
    weights = os.path.join(model, 'weights.bin')
    data = bytearray(open(weights, 'rb').read())
    data[123456] ^= 1
    open(weights, 'wb').write(data)
    rc, rep, _ = verify()
    r.check(rc == 1 and rep['files']['changed'][0]['name'] == 'weights.bin', 'flipped byte names the file', str(rep))
    data[123456] ^= 1
    open(weights, 'wb').write(data)
    os.rename(os.path.join(model, 'config.json'), os.path.join(model, 'config2.json'))
    rc, rep, _ = verify()
    r.check(rc == 1 and rep['files']['missing'] == ['config.json'] and rep['files']['extra'] == ['config2.json'],
            'renamed file is missing + extra', str(rep))
    os.rename(os.path.join(model, 'config2.json'), os.path.join(model, 'config.json'))
    open(os.path.join(model, 'sub', 'evil.pkl'), 'w').write('x')
    rc, rep, _ = verify()
    r.check(rc == 1 and rep['files']['extra'] == ['sub/evil.pkl'], 'added file is extra', str(rep))
    rc, out, _ = cli.run('verify', model, '--signature', sig, '--public-key', pub)
    r.check(rc == 1 and 'extra    sub/evil.pkl' in out and 'model.mismatch' in out, 'text report names the file', out)
    rc, rep, _ = verify('--ignore-paths', 'sub/evil.pkl')
    r.check(rc == 0, '--ignore-paths on verify', str(rep))
    os.remove(os.path.join(model, 'sub', 'evil.pkl'))

    other = os.path.join(work, 'other.key')
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', other)
    openssl('pkey', '-in', other, '-pubout', '-out', other + '.pub')
    rc, rep, _ = verify(public=other + '.pub')
    r.check(rc == 1 and codes(rep) == ['signature.key_mismatch'], 'wrong key rejected', str(rep))
    text = open(sig).read()
    truncated = os.path.join(work, 'truncated.sig')
    open(truncated, 'w').write(text[:len(text) // 2])
    rc, rep, _ = verify(signature=truncated)
    r.check(rc == 1 and codes(rep) == ['bundle.malformed'], 'truncated bundle rejected', str(rep))
    rc, rep, _ = verify(signature=os.path.join(work, 'absent.sig'))
    r.check(rc == 2 and codes(rep) == ['input.signature'], 'missing signature file exits 2', str(rep))

    rc, _, err = cli.run('verify', model, '--signature', sig, '--public-key', pub, '--trust-anchor', pub)
    r.check(rc == 2, 'two trust modes is a usage error', err)
    rc, _, err = cli.run('verify', model, '--signature', sig)
    r.check(rc == 2 and 'exactly one' in err, 'no trust mode is a usage error', err)
    rc, _, err = cli.run('verify', model, '--signature', sig, '--trusted-root', pub)
    r.check(rc == 2, '--trusted-root without --identity/--issuer is a usage error', err)
    rc, _, err = cli.run('sign', model, '--key', os.path.join(work, 'absent.pem'), '--signature', sig)
    r.check(rc == 2, 'missing key exits 2', err)
    for verb in ['sign', 'verify']:
        rc, out, _ = cli.run(verb, '--help')
        r.check(rc == 0 and '--ignore-paths' in out, f'{verb} --help', out)

    cert_sig = os.path.join(work, 'cert.sig')
    rc, out, err = cli.run('sign', model, '--key', key, '--signature', cert_sig,
                           '--cert-chain', os.path.join(keys, 'signing-key-cert.pem'),
                           '--cert-chain', os.path.join(keys, 'int-ca-cert.pem'))
    r.check(rc == 0 and 'certificate mode' in out, 'certificate-mode sign', out + err)
    rc, rep, err = cli.verify_json(model, '--signature', cert_sig, '--trust-anchor', os.path.join(keys, 'ca-cert.pem'))
    r.check(rc == 0 and rep['signer'] == 'CN=intermediate-ca', 'certificate-mode verify', f'{rep or err}')


def check_reuse(cli, r, work, vectors):
    key = os.path.join(vectors, 'golden-bundles', 'keys', 'certificate', 'signing-key.pem')
    model = make_model(os.path.join(work, 'reuse'))
    sig = os.path.join(work, 'reuse.sig')
    rc, out, err = cli.run('sign', model, '--key', key, '--reuse', sig)
    r.check(rc == 0 and 'hashed:   300.0 kB' in out, 'first --reuse hashes everything', out + err)
    r.check(os.path.exists(sig + '.mlsc-cache'), 'cache written next to the signature')
    rc, out, err = cli.run('sign', model, '--key', key, '--reuse', sig)
    r.check(rc == 0 and 'hashed:   0 B' in out and 'from 3 unchanged files' in out, 'second --reuse hashes nothing',
            out + err)
    with open(os.path.join(model, 'config.json'), 'w') as f:
        f.write('{"layers": 4}')
    rc, out, err = cli.run('sign', model, '--key', key, '--reuse', sig)
    r.check(rc == 0 and '(13 bytes)' in out and 'from 2 unchanged files' in out, 'third --reuse hashes one file',
            out + err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--shared', default=os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared'))
    a = ap.parse_args()
    vectors = os.path.join(a.shared, 'vectors', 'model-signing')
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    cli = Cli(a.mlsc)
    r = Results()
    check_goldens(cli, r, vectors, a.shared)
    check_spec_vectors(cli, r, vectors, a.work)
    check_round_trips(cli, r, a.work)
    check_tampering(cli, r, a.work, vectors)
    check_reuse(cli, r, a.work, vectors)
    print(f'{r.passed} passed, {r.failed} failed')
    return 0 if r.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
