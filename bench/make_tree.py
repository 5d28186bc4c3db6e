#!/usr/bin/python3
"""Write the benchmark tree for bench/scan_bench.sh.

Usage: make_tree.py TREE [--small N] [--ckpt N] [--malicious N] [--large-count N] [--large-gib G]
                         [--verify]

TREE gets:
  small/NNN/*.pkl      N small pickles (dicts, lists, OrderedDicts; protocols 2-5), 1-8 KB each
  ckpt/NNN/*.pt        N small PyTorch zip checkpoints (a few tensors, 4-70 KB each)
  malicious/*.pkl      N pickles that call os.system (never loaded; they give the scanner findings)
  large/model-K.pt     N PyTorch zip checkpoints of G GiB each: archive/data.pkl holding one float32
                       tensor whose storage archive/data/0 is G GiB of zeros, stored (not deflated)

The checkpoints are written in the zip layout torch.save uses (archive/data.pkl,
archive/data/<key>, archive/version), with a data.pkl written opcode by opcode the way torch 1.13
writes it, so torch is not needed. --verify loads a small one with torch.load when torch is
installed (it never loads the malicious pickles).

Only Python's standard library is needed. Output is reproducible (fixed seed and timestamps).
"""

import argparse
import collections
import os
import pickle
import random
import struct
import sys
import zlib

CHUNK = 64 << 20


def _bu(s):
    b = s.encode()
    return b'X' + struct.pack('<I', len(b)) + b


def _int(n):
    if 0 <= n < 256:
        return b'K' + bytes([n])
    if -2 ** 31 <= n < 2 ** 31:
        return b'J' + struct.pack('<i', n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, 'little', signed=True)
    return b'\x8a' + bytes([len(raw)]) + raw


def torch_data_pkl(tensors):
    """data.pkl for an OrderedDict state_dict of contiguous float32 tensors.
    tensors: list of (name, storage_key, shape). Same opcodes torch 1.13's torch.save writes."""
    out = [b'\x80\x02', b'ccollections\nOrderedDict\nq\x00)Rq\x01(']
    memo = 2
    for name, key, shape in tensors:
        numel = 1
        for d in shape:
            numel *= d
        stride, acc = [], 1
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= d
        out.append(_bu(name) + b'q' + bytes([memo % 256]))
        memo += 1
        out.append(b'ctorch._utils\n_rebuild_tensor_v2\nq' + bytes([memo % 256]))
        memo += 1
        out.append(b'((' + _bu('storage') + b'ctorch\nFloatStorage\nq' + bytes([memo % 256]))
        memo += 1
        out.append(_bu(key) + _bu('cpu') + _int(numel) + b'tQ')
        out.append(_int(0) + b'(' + b''.join(_int(d) for d in shape) + b't'
                   + b'(' + b''.join(_int(s) for s in stride) + b't'
                   + b'\x89ccollections\nOrderedDict\n)Rtq' + bytes([memo % 256]) + b'R')
        memo += 1
    out.append(b'u.')
    return b''.join(out)


class StoredZip:
    """A streaming zip writer laid out like torch.save's (miniz) output: stored members, data
    records aligned to 64 bytes with an 'FB' padding extra field, 32-bit sizes below 4 GiB and
    zip64 fields only above (torch's reader rejects Python zipfile's early zip64 extras)."""

    ALIGN = 64

    def __init__(self, path):
        self.f = open(path, 'wb')
        self.entries = []

    def add(self, name, chunks, size, align=False):
        f = self.f
        off = f.tell()
        bname = name.encode()
        big = size >= 0xFFFFFFFF
        extra = struct.pack('<HHQQ', 1, 16, size, size) if big else b''
        if align:
            hdr_end = off + 30 + len(bname) + len(extra) + 4
            pad = (-hdr_end) % self.ALIGN
            extra += struct.pack('<HH', 0x4246, pad) + b'Z' * pad
        size32 = 0xFFFFFFFF if big else size
        f.write(struct.pack('<4sHHHHHIIIHH', b'PK\x03\x04', 45 if big else 20, 0, 0, 0, 0x2821, 0,
                            size32, size32, len(bname), len(extra)) + bname + extra)
        crc = 0
        written = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            written += len(chunk)
            f.write(chunk)
        assert written == size, (name, written, size)
        end = f.tell()
        f.seek(off + 14)
        f.write(struct.pack('<I', crc & 0xFFFFFFFF))
        f.seek(end)
        self.entries.append((bname, off, size, crc & 0xFFFFFFFF))

    def close(self):
        f = self.f
        cd_off = f.tell()
        for bname, off, size, crc in self.entries:
            fields = []
            size32 = size
            off32 = off
            if size >= 0xFFFFFFFF:
                fields += [size, size]
                size32 = 0xFFFFFFFF
            if off >= 0xFFFFFFFF:
                fields.append(off)
                off32 = 0xFFFFFFFF
            extra = struct.pack('<HH', 1, 8 * len(fields)) + struct.pack(f'<{len(fields)}Q', *fields) \
                if fields else b''
            f.write(struct.pack('<4sHHHHHHIIIHHHHHII', b'PK\x01\x02', 0x31e, 45 if fields else 20, 0, 0, 0,
                                0x2821, crc, size32, size32, len(bname), len(extra), 0, 0, 0, 0, off32)
                    + bname + extra)
        cd_end = f.tell()
        n = len(self.entries)
        # torch.save always writes the zip64 end records; so do we.
        f.write(struct.pack('<4sQHHIIQQQQ', b'PK\x06\x06', 44, 0x31e, 45, 0, 0, n, n, cd_end - cd_off,
                            cd_off))
        f.write(struct.pack('<4sIQI', b'PK\x06\x07', 0, cd_end, 1))
        f.write(struct.pack('<4sHHHHIIH', b'PK\x05\x06', 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                            min(cd_end - cd_off, 0xFFFFFFFF), min(cd_off, 0xFFFFFFFF), 0))
        f.close()


def write_checkpoint(path, tensors, payload_for_key):
    """tensors: list of (name, shape); payload_for_key(key, nbytes) yields the storage bytes."""
    specs = [(name, str(i), shape) for i, (name, shape) in enumerate(tensors)]
    z = StoredZip(path)
    pkl = torch_data_pkl(specs)
    z.add('archive/data.pkl', [pkl], len(pkl))
    for name, key, shape in specs:
        nbytes = 4
        for d in shape:
            nbytes *= d
        z.add(f'archive/data/{key}', payload_for_key(key, nbytes), nbytes, align=True)
    z.add('archive/version', [b'3\n'], 2, align=True)
    z.close()


def random_bytes(rng):
    def gen(key, nbytes):
        yield rng.randbytes(nbytes)
    return gen


def zeros(key, nbytes):
    block = bytes(min(CHUNK, nbytes))
    left = nbytes
    while left:
        n = min(left, len(block))
        yield block if n == len(block) else block[:n]
        left -= n


def small_object(rng, i):
    kind = i % 4
    if kind == 0:
        return {'step': i, 'loss': rng.random(), 'lr': 1e-3, 'tags': ['train', f'run{i % 7}'],
                'hist': [rng.random() for _ in range(rng.randint(16, 512))]}
    if kind == 1:
        return collections.OrderedDict((f'layer{j}.weight', [rng.random() for _ in range(32)])
                                       for j in range(rng.randint(2, 24)))
    if kind == 2:
        return [(j, f'token{j}', rng.random()) for j in range(rng.randint(32, 600))]
    return {'vocab': {f'w{j}': j for j in range(rng.randint(50, 500))}, 'blob': rng.randbytes(256)}


MALICIOUS = (b'\x80\x02cposix\nsystem\nX\x14\x00\x00\x00touch "$MLSC_MARKER"\x85R.')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('tree')
    ap.add_argument('--small', type=int, default=3000)
    ap.add_argument('--ckpt', type=int, default=200)
    ap.add_argument('--malicious', type=int, default=20)
    ap.add_argument('--large-count', type=int, default=2)
    ap.add_argument('--large-gib', type=float, default=2.0)
    ap.add_argument('--verify', action='store_true')
    a = ap.parse_args()

    rng = random.Random(1234)
    tree = os.path.abspath(a.tree)
    for i in range(a.small):
        d = os.path.join(tree, 'small', f'{i // 500:03d}')
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f'obj{i:05d}.pkl'), 'wb') as f:
            f.write(pickle.dumps(small_object(rng, i), protocol=2 + i % 4))
    for i in range(a.ckpt):
        d = os.path.join(tree, 'ckpt', f'{i // 100:03d}')
        os.makedirs(d, exist_ok=True)
        width = rng.choice((16, 32, 64, 128, 256))
        tensors = [('fc1.weight', (width, 64)), ('fc1.bias', (width,)), ('fc2.weight', (10, width)),
                   ('fc2.bias', (10,))]
        write_checkpoint(os.path.join(d, f'model{i:04d}.pt'), tensors, random_bytes(rng))
    if a.malicious:
        d = os.path.join(tree, 'malicious')
        os.makedirs(d, exist_ok=True)
        for i in range(a.malicious):
            with open(os.path.join(d, f'evil{i:03d}.pkl'), 'wb') as f:
                f.write(MALICIOUS)
    if a.large_count:
        d = os.path.join(tree, 'large')
        os.makedirs(d, exist_ok=True)
        numel = int(a.large_gib * (1 << 30)) // 4
        for i in range(a.large_count):
            write_checkpoint(os.path.join(d, f'model-{i}.pt'), [('embed.weight', (numel,))], zeros)

    if a.verify:
        try:
            import torch
        except ImportError:
            print('make_tree: torch not installed, --verify skipped', file=sys.stderr)
        else:
            p = os.path.join(tree, 'verify-small.pt')
            write_checkpoint(p, [('w', (3, 4)), ('b', (3,))], zeros)
            sd = torch.load(p)
            assert list(sd) == ['w', 'b'] and tuple(sd['w'].shape) == (3, 4), sd
            os.remove(p)
            if a.ckpt:
                sd = torch.load(os.path.join(tree, 'ckpt', '000', 'model0000.pt'))
                assert 'fc2.bias' in sd and tuple(sd['fc2.bias'].shape) == (10,)
            print('make_tree: torch.load reads the generated checkpoints', file=sys.stderr)


if __name__ == '__main__':
    main()
