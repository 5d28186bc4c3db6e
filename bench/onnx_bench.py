#!/usr/bin/python3
"""Time `mlsc scan` on ONNX models, one model per invocation.

Usage: /usr/bin/python3 bench/onnx_bench.py --mlsc build/mlsc [--runs 15] [--large-mib 512] DIR...

Every *.onnx under each DIR (e.g. build/integration-work/test_onnx/fixtures/benign and
build/integration-work/test_onnx/npm-models, which tests/integration/test_onnx.py writes) is
scanned RUNS times with `-j 1 --format json`; the table gives, per model, its size, node count
(from mlsc's summary finding), the fastest wall time of the whole process and the fastest scan
time mlsc reports itself (summary.seconds: mapping, recognition, stripping, parsing, checks).
With --large-mib N it also writes a model holding N MiB of inline float32 weights (onnx.save,
into /tmp) to show that the time follows the graph, not the weights.
Prints a Markdown table for bench/RESULTS.md.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time


def scan_once(mlsc, path):
    t0 = time.perf_counter()
    r = subprocess.run([mlsc, 'scan', '-j', '1', '-q', '--format', 'json', path],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    doc = json.loads(r.stdout)
    entry = doc['files'][0]
    summary = next((f['message'] for f in entry['findings'] if f['rule'] == 'onnx.summary'), '')
    return wall, doc['summary']['seconds'], entry, summary


def large_model(mib):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    n = mib * (1 << 20) // 4 // 1024
    w = numpy_helper.from_array(np.zeros((1024, n), np.float32), 'w')
    g = helper.make_graph([helper.make_node('MatMul', ['x', 'w'], ['y'])], 'large',
                          [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 1024])],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, n])], [w])
    path = os.path.join(tempfile.gettempdir(), f'mlsc-bench-{mib}mib.onnx')
    if not os.path.exists(path):
        onnx.save(helper.make_model(g), path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mlsc', required=True)
    ap.add_argument('--runs', type=int, default=15)
    ap.add_argument('--large-mib', type=int, default=0)
    ap.add_argument('dirs', nargs='+')
    args = ap.parse_args()
    args.dirs = [os.path.abspath(d) for d in args.dirs]
    models = sorted(os.path.join(d, f) for base in args.dirs for d, _, fs in os.walk(base)
                    for f in fs if f.endswith('.onnx'))
    if args.large_mib:
        models.append(large_model(args.large_mib))
    print(f'machine: {platform.machine()}, {os.cpu_count()} cores, '
          f'{open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].splitlines()[0].strip()}'
          if os.path.exists('/proc/cpuinfo') else platform.platform())
    print()
    print('| model | size | nodes | worst finding | process, min ms | scan, min ms |')
    print('|---|---:|---:|---|---:|---:|')
    walls, scans = [], []
    for path in models:
        best_wall, best_scan = float('inf'), float('inf')
        for _ in range(args.runs):
            wall, secs, entry, summary = scan_once(args.mlsc, path)
            best_wall, best_scan = min(best_wall, wall), min(best_scan, secs)
        nodes = re.search(r'; (\d+) nodes', summary)
        walls.append(best_wall)
        scans.append(best_scan)
        base = next((d for d in args.dirs if path.startswith(d + os.sep)), os.path.dirname(path))
        name = os.path.relpath(path, os.path.dirname(base))
        print(f'| {name} | {os.path.getsize(path) / 1e6:.2f} MB | {nodes.group(1) if nodes else "?"} '
              f'| {entry["max_severity"]} | {best_wall * 1e3:.1f} | {best_scan * 1e3:.2f} |')
    print()
    walls.sort()
    scans.sort()
    print(f'{len(models)} models: median {walls[len(walls) // 2] * 1e3:.1f} ms per process, '
          f'median {scans[len(scans) // 2] * 1e3:.2f} ms scan time reported by mlsc')
    return 0


if __name__ == '__main__':
    sys.exit(main())
