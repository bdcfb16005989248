#!/usr/bin/env bash
# The main job end to end on a CPU, with the user's own commands as typed: `omnidiff render --scenes N`
# (rooms and streets in equal shares, the omnidiff preset's default) into the data root, `omnidiff eval
# --model NAME` over every benchmark found there (it ends with the leaderboard), then the leaderboard
# files and the HTML page.
# Everything goes under demo-out/ (rerunning resumes the render and serves captions from the cache).
# Sizes can be changed through the environment, e.g. DEMO_SCENES=8 make demo.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${DEMO_OUT:-demo-out}
SCENES=${DEMO_SCENES:-4}
PAIRS_PER_SCENE=${DEMO_PAIRS_PER_SCENE:-3}
PROFILE=${DEMO_PROFILE:-preview}
WORKERS=${DEMO_WORKERS:-2}
SETTINGS=${DEMO_SETTINGS:-indoor,outdoor}
OMNIDIFF=(.venv/bin/python -m cli)
mkdir -p "$OUT"
start=$(date +%s)
# The data root: `render` writes $OMNIDIFF_DATA/omnidiff-render/, `eval` finds every benchmark there.
export OMNIDIFF_DATA="$OUT/data"

echo "== 1/4 render: ${SCENES} scenes (${SETTINGS}), ${PAIRS_PER_SCENE} pairs each, profile ${PROFILE}, half train and half test"
"${OMNIDIFF[@]}" render --scenes "$SCENES" --preset omnidiff --setting "$SETTINGS" --profile "$PROFILE" --pairs-per-scene "$PAIRS_PER_SCENE" \
  --split-ratios 0.5,0,0.5 --workers "$WORKERS"
"${OMNIDIFF[@]}" validate "$OMNIDIFF_DATA/omnidiff-render"

echo "== 2/4 eval: pixel-diff and nn-caption (fitted on the train split) on every benchmark found under $OMNIDIFF_DATA"
"${OMNIDIFF[@]}" eval --model pixel-diff --results "$OUT/results"
"${OMNIDIFF[@]}" eval --model nn-caption --results "$OUT/results"

echo "== 3/4 leaderboard"
"${OMNIDIFF[@]}" leaderboard --results "$OUT/results" --format md | tee "$OUT/leaderboard.md"
"${OMNIDIFF[@]}" leaderboard --results "$OUT/results" --format csv --out "$OUT/leaderboard.csv"
"${OMNIDIFF[@]}" leaderboard --results "$OUT/results" --format latex --out "$OUT/leaderboard.tex"

echo "== 4/4 HTML page"
"${OMNIDIFF[@]}" leaderboard --results "$OUT/results" --format html --out "$OUT/leaderboard.html"
echo "demo done in $(( $(date +%s) - start ))s: open $OUT/leaderboard.html"
