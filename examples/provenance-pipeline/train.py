"""Trains a linear model on the CSV shards of a dataset folder with PyTorch, signing every
checkpoint with `mlsc checkpoint sign` as it is written, and resuming only from a checkpoint
`mlsc checkpoint verify` accepts. Usage: train.py DATA_DIR OUT_DIR MLSC KEY PUB RUN_ID"""
import glob
import json
import os
import subprocess
import sys

import numpy as np
import torch

data, out, mlsc, key, pub, run_id = sys.argv[1:7]
os.makedirs(os.path.join(out, 'model'), exist_ok=True)
ckpt_dir = os.path.join(out, 'checkpoints')
os.makedirs(ckpt_dir, exist_ok=True)
rows = np.concatenate([np.loadtxt(p, delimiter=',', skiprows=1)
                       for p in sorted(glob.glob(os.path.join(data, 'train', '*.csv')))])
x = torch.tensor(rows[:, :2], dtype=torch.float32)
y = torch.tensor(rows[:, 2:], dtype=torch.float32)

torch.manual_seed(0)
model = torch.nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
start = 0
latest = os.path.join(ckpt_dir, 'latest.pt')
if os.path.exists(latest):
    # Refuse to resume from a checkpoint whose signature or place in the run does not check out.
    ok = subprocess.run([mlsc, 'checkpoint', 'verify', latest, '--public-key', pub,
                         '--run-id', run_id]).returncode == 0
    if not ok:
        sys.exit('refusing to resume: checkpoint failed verification')
    state = torch.load(latest)
    model.load_state_dict(state['model'])
    start = state['step']

for step in range(start, 60):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    if (step + 1) % 20 == 0:
        torch.save({'model': model.state_dict(), 'step': step + 1}, latest)
        subprocess.run([mlsc, 'checkpoint', 'sign', latest, '--key', key, '--run-id', run_id,
                        '--step', str(step + 1)], check=True, stdout=subprocess.DEVNULL)

torch.save(model.state_dict(), os.path.join(out, 'model', 'model.pt'))
with open(os.path.join(out, 'model', 'config.json'), 'w') as f:
    json.dump({'architecture': 'Linear', 'in_features': 2, 'out_features': 1}, f)
with open(os.path.join(out, 'metrics.json'), 'w') as f:
    json.dump({'train_mse': float(loss.item())}, f)
