#!/usr/bin/env bash
# same-bytes.sh PYTHON_A PYTHON_B: `mutualsim run` on a small scenario under two
# environments (pandas 3 and pandas 2, the rest identical) must write identical files.
set -euo pipefail
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf 'councils = 12\nyears = 15\n' > "$work/small.toml"
for py in "$1" "$2"; do
    name="$(basename "$(dirname "$(dirname "$py")")")"
    "$py" -m mutualsim run "$work/small.toml" -n 20 --seed 3 --quiet --out "$work/$name" \
        > /dev/null
    (cd "$work/$name" && sha256sum histories.parquet panel.parquet) > "$work/$name.sha256"
done
a="$(basename "$(dirname "$(dirname "$1")")")"; b="$(basename "$(dirname "$(dirname "$2")")")"
if ! diff "$work/$a.sha256" "$work/$b.sha256"; then
    echo "FAIL: files differ between $a and $b"
    exit 1
fi
echo "same bytes under $a and $b: $(tr '\n' ' ' < "$work/$a.sha256")"
