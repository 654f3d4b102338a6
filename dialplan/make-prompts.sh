#!/usr/bin/env bash
# Turn dialplan/prompts.tsv (name<TAB>Vietnamese text) into placeholder prompts for Asterisk:
# 8 kHz, mono, 16-bit signed PCM WAV files named <name>.wav, spoken by espeak-ng's Vietnamese voice.
# They stand in until a human voice records the same texts under the same names.
#
# Usage: dialplan/make-prompts.sh [OUTPUT_DIR]      (default: dialplan/sounds/vi)
#        PROMPTS=/path/to/prompts.tsv dialplan/make-prompts.sh /tmp/vi
# Needs: espeak-ng and sox (Debian/Ubuntu: apt-get install espeak-ng sox).
# Install: copy OUTPUT_DIR/*.wav to <astdatadir>/sounds/vi/ (usually /var/lib/asterisk/sounds/vi/).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prompts="${PROMPTS:-$here/prompts.tsv}"
out="${1:-$here/sounds/vi}"
# Words per minute: a little slower than espeak-ng's default 175, for elderly callers.
speed="${ESPEAK_SPEED:-140}"

for tool in espeak-ng sox; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "make-prompts.sh: $tool is not installed (apt-get install espeak-ng sox)" >&2
        exit 1
    fi
done
if [[ ! -r "$prompts" ]]; then
    echo "make-prompts.sh: cannot read $prompts" >&2
    exit 1
fi

mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

count=0
lineno=0
while IFS=$'\t' read -r name text || [[ -n "${name:-}" ]]; do
    lineno=$((lineno + 1))
    name="${name%$'\r'}"
    text="${text%$'\r'}"
    # Blank lines and comments.
    [[ -z "$name" || "$name" == \#* ]] && continue
    if [[ ! "$name" =~ ^[A-Za-z0-9_-]+$ ]]; then
        echo "make-prompts.sh: line $lineno: bad prompt name '$name'" >&2
        exit 1
    fi
    if [[ -z "$text" ]]; then
        echo "make-prompts.sh: line $lineno: prompt '$name' has no text" >&2
        exit 1
    fi
    # espeak-ng writes 22050 Hz mono WAV; sox resamples to what Asterisk's format_wav plays natively
    # (8000 Hz, 1 channel, 16-bit signed), with a little headroom.
    espeak-ng -v vi -s "$speed" -w "$tmp/$name.wav" -- "$text"
    sox "$tmp/$name.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$name.wav" norm -3
    echo "  $out/$name.wav"
    count=$((count + 1))
done <"$prompts"

if [[ "$count" -eq 0 ]]; then
    echo "make-prompts.sh: no prompts in $prompts" >&2
    exit 1
fi
echo "make-prompts.sh: $count prompt(s) written to $out"
