#!/usr/bin/env bash
# The main job end to end on a CPU: render a small OmniDiff-preset set of rooms and streets at the preview
# profile, evaluate the two CPU baselines on it, print the leaderboard and write the HTML page.
# Everything goes under demo-out/ (rerunning resumes the renders and serves captions from the cache).
# Sizes can be changed through the environment, e.g. DEMO_TEST_SCENES=4 make demo.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${DEMO_OUT:-demo-out}
TRAIN_SCENES=${DEMO_TRAIN_SCENES:-2}
TEST_SCENES=${DEMO_TEST_SCENES:-2}
PAIRS_PER_SCENE=${DEMO_PAIRS_PER_SCENE:-4}
PROFILE=${DEMO_PROFILE:-preview}
WORKERS=${DEMO_WORKERS:-2}
SETTINGS=${DEMO_SETTINGS:-indoor,outdoor}
OMNIDIFF=(.venv/bin/python -m cli)
mkdir -p "$OUT"
start=$(date +%s)

echo "== 1/4 render: ${TRAIN_SCENES} train + ${TEST_SCENES} test scenes (${SETTINGS}), ${PAIRS_PER_SCENE} pairs each, profile ${PROFILE}"
# Two stores with different seeds: nn-caption is fitted on the train store, both models are scored on the test store.
"${OMNIDIFF[@]}" render --scenes "$TRAIN_SCENES" --preset omnidiff --setting "$SETTINGS" --profile "$PROFILE" --split train \
  --pairs-per-scene "$PAIRS_PER_SCENE" --seed 1 --workers "$WORKERS" --out "$OUT/train"
"${OMNIDIFF[@]}" render --scenes "$TEST_SCENES" --preset omnidiff --setting "$SETTINGS" --profile "$PROFILE" --split test \
  --pairs-per-scene "$PAIRS_PER_SCENE" --seed 2 --workers "$WORKERS" --out "$OUT/test"
"${OMNIDIFF[@]}" validate "$OUT/test"

echo "== 2/4 eval: pixel-diff and nn-caption on the test store"
"${OMNIDIFF[@]}" eval --model pixel-diff --benchmark omnidiff --data "$OUT/test" --results "$OUT/results"
"${OMNIDIFF[@]}" eval --model nn-caption --benchmark omnidiff --data "$OUT/test" --results "$OUT/results" \
  --model-arg "train_data=$OUT/train"

echo "== 3/4 leaderboard"
"${OMNIDIFF[@]}" leaderboard --results "$OUT/results" --format md | tee "$OUT/leaderboard.md"
"${OMNIDIFF[@]}" leaderboard --results "$OUT/results" --format csv --out "$OUT/leaderboard.csv"
"${OMNIDIFF[@]}" leaderboard --results "$OUT/results" --format latex --out "$OUT/leaderboard.tex"

echo "== 4/4 HTML page"
"${OMNIDIFF[@]}" leaderboard --results "$OUT/results" --format html --out "$OUT/leaderboard.html"
echo "demo done in $(( $(date +%s) - start ))s: open $OUT/leaderboard.html"
