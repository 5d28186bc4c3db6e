#!/usr/bin/env bash
# Build a small demo folder of real model files, some benign and some malicious, for `mlsc scan`.
#
#   examples/make_example.sh /tmp/mlsc-demo
#   build/mlsc scan /tmp/mlsc-demo            # exit code 1: the malicious files are flagged
#   build/mlsc scan /tmp/mlsc-demo/benign     # exit code 0
#
# The files come from tests/fixtures/make_fixtures.py (real producers: torch.save, joblib.dump,
# numpy.save, pickle.dump; hand-built attacks). Each malicious file is proven to run its payload
# under the real loader; the payload only creates the file named by $MLSC_MARKER, so loading one
# without that variable set does nothing. Needs Debian's /usr/bin/python3 with python3-torch,
# numpy, joblib and sklearn; files whose producer is missing are skipped. Extra arguments go to
# make_fixtures.py (for example --no-prove to skip the proofs).
set -euo pipefail

if [[ $# -lt 1 || $1 == -* ]]; then
  echo "usage: $0 OUTDIR [make_fixtures.py options]" >&2
  exit 2
fi
out=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3
[[ -x $python ]] || python=python3

files=(
  benign/torch_state_dict.pt
  benign/sklearn_pipeline.joblib
  benign/numpy_float.npy
  benign/plain_data_p4.pkl
  malicious/reduce_os_system_p4.pkl
  malicious/torch_zip_datapkl_injected.pt
  malicious/joblib_payload_after_array.joblib.gz
  malicious/archive_pickle.tar
)
only=$(IFS=,; echo "${files[*]}")

"$python" "$here/../tests/fixtures/make_fixtures.py" "$out" --only "$only" "$@"
echo
echo "Demo folder ready: $out (see $out/manifest.json for what each file is)."
echo "Scan it:  mlsc scan $out          (malicious files -> exit code 1)"
echo "          mlsc scan $out/benign   (exit code 0)"
