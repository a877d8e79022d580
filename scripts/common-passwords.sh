#!/usr/bin/env bash
# Writes crates/server/data/common-passwords.txt: the 30,000 most common passwords of zxcvbn
# (the Python port, MIT licence, PyPI zxcvbn 4.5.0, pinned by sha256), lower-cased, most common
# first. Baton refuses them as member passwords (crates/server/src/passwords.rs). The list is
# small (240 KB) and kept in git so builds need no network; this script reproduces it.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.5.0
sha256=2b6eed621612ce6d65e6e4c7455b966acee87d0280e257956b1f06ccc66bd5ff
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps "zxcvbn==$version" -d "$work"
wheel="$work/zxcvbn-$version-py2.py3-none-any.whl"
echo "$sha256  $wheel" | sha256sum -c --quiet
(cd "$work" && python3 -m zipfile -e "$wheel" unpacked)
PYTHONPATH="$work/unpacked" python3 - <<'PY'
import zxcvbn.frequency_lists as f
with open("crates/server/data/common-passwords.txt", "w") as out:
    for word in f.FREQUENCY_LISTS["passwords"]:
        out.write(word.lower() + "\n")
PY
cp "$work/unpacked/zxcvbn-$version.dist-info/LICENSE.txt" crates/server/data/common-passwords.LICENSE
echo "crates/server/data/common-passwords.txt: $(wc -l < crates/server/data/common-passwords.txt) passwords"
