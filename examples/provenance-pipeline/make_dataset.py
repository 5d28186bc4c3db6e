"""Writes a small tabular regression dataset (y = 3x0 - 2x1 + 0.5 + noise) as CSV shards plus a
NumPy copy, the kind of folder a data team publishes. Usage: make_dataset.py OUT_DIR"""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(os.path.join(out, 'train'), exist_ok=True)
rng = np.random.default_rng(7)
for shard in range(3):
    x = rng.normal(size=(200, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] + 0.5 + rng.normal(scale=0.05, size=200)
    rows = np.column_stack([x, y])
    np.savetxt(os.path.join(out, 'train', f'part-{shard}.csv'), rows, delimiter=',',
               header='x0,x1,y', comments='', fmt='%.6f')
np.save(os.path.join(out, 'features-mean.npy'), np.zeros(2))
with open(os.path.join(out, 'README.md'), 'w') as f:
    f.write('# regression\n\nSynthetic tabular data: y = 3*x0 - 2*x1 + 0.5 + noise.\n')
