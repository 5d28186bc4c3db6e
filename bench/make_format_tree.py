#!/usr/bin/python3
"""Writes the mixed tree for bench/format_bench.sh: OUT/{small,large}/...

small/: COUNT files, cycling through small safetensors (numpy tensors), GGUF v3 files (the fixture
writer), tokenizer_config.json with ordinary chat templates, .jinja templates and config.json.
large/: LARGE_COUNT safetensors and LARGE_COUNT GGUF files of LARGE_GIB GiB each. Their headers are
real; the tensor data is a hole (the files are sparse, made with truncate), so creating them is
instant and costs no disk. Reading the data would still have to fault in every page.
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fixtures'))
from format_templates_a import BENIGN  # noqa: E402
from make_format_fixtures_a import Gguf, benign_gguf, st_bytes  # noqa: E402


def sparse_safetensors(path, gib):
    n_tensors = 64
    per = (gib << 30) // n_tensors // 2 * 2  # BF16 elements x 2 bytes
    entries, off = {}, 0
    for i in range(n_tensors):
        entries[f'model.layers.{i}.weight'] = {'dtype': 'BF16', 'shape': [per // 2],
                                               'data_offsets': [off, off + per]}
        off += per
    text = json.dumps({'__metadata__': {'format': 'pt'}, **entries}).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text)
        f.truncate(8 + len(text) + off)


def sparse_gguf(path, gib):
    g = Gguf(3)
    g.add_str('general.architecture', 'llama')
    g.add_str('tokenizer.chat_template', BENIGN['llama3'])
    n_tensors = 64
    rows = (gib << 30) // n_tensors // 34 // 4096  # Q8_0 rows of 4096 elements (128 blocks)
    for i in range(n_tensors):
        g.tensors.append((f'blk.{i}.ffn.weight', [4096, rows], 8, rows * 128 * 34, None))
    head = g.bytes(with_data=False)
    data = sum(t[3] + (-t[3] % 32) for t in g.tensors)
    with open(path, 'wb') as f:
        f.write(head)
        f.truncate(len(head) + data)  # the tensor data is a hole


def main():
    out, count, large_count, gib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(os.path.join(out, 'small'), exist_ok=True)
    os.makedirs(os.path.join(out, 'large'), exist_ok=True)
    rng = np.random.default_rng(1)
    names = list(BENIGN)
    for i in range(count):
        kind = i % 5
        base = os.path.join(out, 'small', f'f{i:05d}')
        if kind == 0:
            t = {f'w{k}': rng.standard_normal((64, 64)).astype(np.float32) for k in range(4)}
            data, ext = st_bytes(t, {'format': 'pt'}), '.safetensors'
        elif kind == 1:
            data, ext = benign_gguf(3, BENIGN[names[i % len(names)]]).bytes(), '.gguf'
        elif kind == 2:
            data, ext = json.dumps({'tokenizer_class': 'X', 'chat_template': BENIGN[names[i % len(names)]]}).encode(), '.json'
        elif kind == 3:
            data, ext = BENIGN[names[i % len(names)]].encode(), '.jinja'
        else:
            data, ext = json.dumps({'model_type': 'llama', 'hidden_size': 4096, 'num_hidden_layers': 32}).encode(), '.json'
        with open(base + ext, 'wb') as f:
            f.write(data)
    for i in range(large_count):
        sparse_safetensors(os.path.join(out, 'large', f'big{i}.safetensors'), gib)
        sparse_gguf(os.path.join(out, 'large', f'big{i}.gguf'), gib)


if __name__ == '__main__':
    main()
