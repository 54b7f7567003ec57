#!/usr/bin/env bash
# Runs every experiment of the paper at the sizes recorded in docs/results.md.
#
#   bash benchmarks/reproduce.sh            # embedded default model (Qwen2.5-Coder-1.5B), ~3 h on 2 cores
#   SMALL=1 bash benchmarks/reproduce.sh    # every experiment once, tiny, on SmolLM2: ~3 CPU-minutes
#   MODEL=openai:my-model bash benchmarks/reproduce.sh
#   SCALE=5 bash benchmarks/reproduce.sh    # 5x the examples of every experiment
#   OUT=/tmp/results bash benchmarks/reproduce.sh
#
# All runs share one call log (bench --calls), so a sleep made for one
# experiment is replayed by the next on the same dataset instead of recomputed,
# and the script is resumable: run it again after a kill and it continues.
# Reports land in $OUT/EXPERIMENT-DATASET-MODEL[-VARIANT]/report.md (OUT defaults
# to ./bench-results, or ./bench-results-small with SMALL=1); each run prints a
# line when it starts, and progress lines as it goes.
#
# SMALL=1: SmolLM2 (unless MODEL is set), 2 examples, answers of at most 64
# tokens, one rethink round of at most 128 tokens, the GSM-Symbolic P2 runs
# only; it checks that everything runs, its numbers mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

SLEEPTIME=${SLEEPTIME:-.venv/bin/sleeptime}
SMALL=${SMALL:-}
if [ -n "$SMALL" ]; then
    MODEL=${MODEL:-smollm2-135m}
    OUT=${OUT:-bench-results-small}
    export SLEEPTIME_N_THREADS=${SLEEPTIME_N_THREADS:-2}
else
    MODEL=${MODEL:-default}
    OUT=${OUT:-bench-results}
fi
SCALE=${SCALE:-1}
slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }
CALLS="$OUT/calls-$(slug "$MODEL").jsonl"
mkdir -p "$OUT"

n() { if [ -n "$SMALL" ]; then echo 2; else echo $(($1 * SCALE)); fi; }
# Budgets of the small mode (none otherwise: the experiments' defaults).
TINY=()
if [ -n "$SMALL" ]; then
    TINY=(--max-tokens 64 --sleep-max-tokens 128 --sleep-rounds 1 --sleep '{"strategy": "rethink"}')
fi

# bench EXPERIMENT DATASET [VARIANT] -- OPTIONS...: one run, its report in $OUT.
bench() {
    local experiment=$1 dataset=$2 variant=$3
    shift 3
    local out="$OUT/$(slug "$experiment-$dataset-$MODEL${variant:+-$variant}")"
    echo "== $(date +%H:%M:%S) sleeptime bench $experiment --dataset $dataset $* -> $out" >&2
    "$SLEEPTIME" --model "$MODEL" bench --calls "$CALLS" "$experiment" --dataset "$dataset" \
        --out "$out" "${TINY[@]}" "$@"
}

P2=stateful-gsm-symbolic-p2
# The Pareto curve on the paper's dataset, then the experiments that reuse its sleeps.
bench pareto "$P2" "" --limit "$(n 10)"
bench passk "$P2" "" --limit "$(n 10)" --verbosities 0
bench predictability "$P2" "" --limit "$(n 10)"
# The paper scored log P(q | c) with a base model: a second, separate scorer.
bench predictability "$P2" scored-by-smollm2 --limit "$(n 10)" --score-model smollm2-135m
bench ablation "$P2" "" --limit "$(n 10)"
MQ=multi-query-gsm-symbolic-p2
if [ -n "$SMALL" ]; then
    bench amortization "$MQ" "" --limit 2 --verbosities 0 --ns 1,2 --min-questions 2
    bench swe swe-features "" --steps 1,2
    bench scaling "$P2" "" --limit 2 --ks 1,2 --rounds 1
    echo "small run done: reports in $OUT" >&2
    exit 0
fi
# GSM8K: easy enough for a 1.5B model that accuracy differences show.
G=stateful-gsm8k
bench pareto "$G" "" --limit "$(n 20)"
bench passk "$G" "" --limit "$(n 20)" --verbosities 0
bench predictability "$G" "" --limit "$(n 20)"
bench ablation "$G" "" --limit "$(n 20)"
# Ten questions per context need model-written questions on top of the derived ones.
bench amortization "$MQ" "" --limit "$(n 2)" --verbosities 0,4 --generate-questions 15
# N = 10: contexts that reach 10 questions with the generated ones (candidates are tried in order).
bench amortization "$MQ" n10 --limit "$(n 1)" --min-questions 10 --verbosities 0,2 --generate-questions 15
bench swe swe-features ""
bench scaling "$G" "" --limit "$(n 3)" --ks 1,2,4 --rounds 1,3
