#!/usr/bin/env bash
# Runs every experiment of the paper at the sizes recorded in docs/results.md.
#
#   bash benchmarks/reproduce.sh            # embedded default model (Qwen2.5-Coder-1.5B), ~3 h on 2 cores
#   MODEL=openai:my-model bash benchmarks/reproduce.sh
#   SCALE=5 bash benchmarks/reproduce.sh    # 5x the examples of every experiment
#
# All runs share one call log (bench --calls), so a sleep made for one
# experiment is replayed by the next on the same dataset instead of recomputed,
# and the script is resumable: run it again after a kill and it continues.
# Reports land in $OUT/EXPERIMENT-DATASET-MODEL/report.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SLEEPTIME=${SLEEPTIME:-.venv/bin/sleeptime}
MODEL=${MODEL:-default}
OUT=${OUT:-bench-results}
SCALE=${SCALE:-1}
CALLS="$OUT/calls-$(printf '%s' "$MODEL" | tr -c 'A-Za-z0-9._-' '_').jsonl"
mkdir -p "$OUT"

n() { echo $(($1 * SCALE)); }
bench() { "$SLEEPTIME" --model "$MODEL" bench --calls "$CALLS" "$@"; }

P2=stateful-gsm-symbolic-p2
# The Pareto curve on the paper's dataset, then the experiments that reuse its sleeps.
bench pareto --dataset "$P2" --limit "$(n 10)"
bench passk --dataset "$P2" --limit "$(n 10)" --verbosities 0
bench predictability --dataset "$P2" --limit "$(n 10)"
# The paper scored log P(q | c) with a base model: a second, separate scorer.
bench predictability --dataset "$P2" --limit "$(n 10)" --score-model smollm2-135m \
    --out "$OUT/predictability-$P2-$MODEL-scored-by-smollm2"
bench ablation --dataset "$P2" --limit "$(n 10)"
# GSM8K: easy enough for a 1.5B model that accuracy differences show.
G=stateful-gsm8k
bench pareto --dataset "$G" --limit "$(n 20)"
bench passk --dataset "$G" --limit "$(n 20)" --verbosities 0
bench predictability --dataset "$G" --limit "$(n 20)"
bench ablation --dataset "$G" --limit "$(n 20)"
# Ten questions per context need model-written questions on top of the derived ones.
MQ=multi-query-gsm-symbolic-p2
bench amortization --dataset "$MQ" --limit "$(n 2)" --verbosities 0,4 --generate-questions 15
# N = 10: contexts that reach 10 questions with the generated ones (candidates are tried in order).
bench amortization --dataset "$MQ" --limit "$(n 1)" --min-questions 10 --verbosities 0,2 \
    --generate-questions 15 --out "$OUT/amortization-$MQ-$MODEL-n10"
bench swe
bench scaling --dataset "$G" --limit "$(n 3)" --ks 1,2,4 --rounds 1,3
