#!/usr/bin/env bash
# End-to-end provenance example (issue 6): a dataset is manifested and signed, a small model is
# trained on it with PyTorch (every checkpoint signed), the training step is attested (SLSA v1),
# the model is signed and scanned, everything is ingested into the lineage graph, and the model
# is admitted by policy. Then one dataset file is altered: the dataset no longer verifies, the
# same admission rejects the model, and `mlsc graph affected` names the model.
# Usage: examples/provenance-pipeline/run.sh [MLSC_BINARY] [WORK_DIR]
# Exit 0 when every step behaved as described (used by tests/integration/test_example_pipeline.py).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MLSC=$(realpath "${1:-$HERE/../../build/mlsc}")
WORK=${2:-$(mktemp -d "${TMPDIR:-/tmp}/mlsc-pipeline.XXXXXX")}
PY=/usr/bin/python3
mkdir -p "$WORK" && cd "$WORK"
rm -rf keys data code out graph.db ./*.sig ./*.json
step() { printf '\n== %s\n' "$*"; }
expect() {  # expect CODE CMD...: run CMD, show its output, fail unless it exits with CODE
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  if [[ $rc -ne $want ]]; then echo "!! expected exit $want, got $rc: $*" >&2; exit 1; fi
}

step "keys for the data team, the training platform and the release signer"
mkdir -p keys
for k in data-team platform release; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out keys/$k.key 2>/dev/null
  openssl pkey -in keys/$k.key -pubout -out keys/$k.pub
done
cp "$HERE/policy.yaml" policy.yaml

step "1. the data team publishes a dataset with a signed manifest"
$PY "$HERE/make_dataset.py" data/regression
expect 0 "$MLSC" dataset manifest data/regression --key keys/data-team.key --name regression \
  --source https://data.example/approved/regression -o regression.manifest.sig

step "2. the training code is committed (a dirty tree would be refused by mlsc attest)"
mkdir -p code && cp "$HERE/train.py" code/
git -C code init -q && git -C code add train.py
git -C code -c user.name=ml -c user.email=ml@example.test commit -qm "training script"

step "3. train, signing each checkpoint; record the environment"
$PY code/train.py data/regression out "$MLSC" keys/platform.key keys/platform.pub run-1
expect 0 "$MLSC" checkpoint verify out/checkpoints/latest.pt --public-key keys/platform.pub \
  --run-id run-1
"$MLSC" bom /usr/lib/python3/dist-packages -o environment.cdx.json

step "4. attest the training step (SLSA v1 provenance, buildType https://mlsc.dev/ml-step/v1)"
expect 0 "$MLSC" attest --step train --output-artifact out/model \
  --dataset regression=regression.manifest.sig --code code --environment environment.cdx.json \
  --param lr=0.1 --param steps=60 --metrics out/metrics.json \
  --builder-id https://ml-platform.example/builders/train --key keys/platform.key \
  --output model.provenance.sig -- python3 train.py data/regression out

step "5. sign and scan the model"
expect 0 "$MLSC" sign out/model --key keys/release.key --signature model.sig
expect 0 "$MLSC" scan out/model

step "6. ingest everything into the lineage graph"
expect 0 "$MLSC" graph ingest regression.manifest.sig model.provenance.sig model.sig \
  environment.cdx.json --db graph.db

step "7. admission: the model is admitted"
admit() {
  "$MLSC" admit --policy policy.yaml out/model --signature model.sig \
    --provenance model.provenance.sig --evidence regression.manifest.sig --input data/regression
}
expect 0 admit

step "8. someone alters one dataset file after it was signed (a poisoned row)"
echo "9.0,9.0,-100.0" >> data/regression/train/part-1.csv
expect 1 "$MLSC" dataset verify data/regression --manifest regression.manifest.sig \
  --public-key keys/data-team.pub

step "9. the same admission now rejects the model"
expect 1 admit

step "10. which models are affected if the dataset is compromised?"
expect 0 "$MLSC" graph affected --by dataset:regression --db graph.db
pick='import json, sys
print(" ".join(n["key"] for n in json.load(sys.stdin)["nodes"] if n["label"] == "out/model/"))'
MODEL=$("$MLSC" graph affected --by dataset:regression --db graph.db --format json | $PY -c "$pick")
echo "affected model: out/model/ = $MODEL"
[[ -n "$MODEL" ]]
printf '\nall steps behaved as expected (work dir: %s)\n' "$WORK"
