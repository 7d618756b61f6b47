#!/usr/bin/env bash
# Scoring speed of a reward model (prefill only) against llama.cpp's prefill on the same body, and peak memory.
# usage: bench_reward.sh RM_DIR ROWS.jsonl WORK_DIR [FORMATS] [ROUNDS]
#   RM_DIR: a reward model folder (sequence-classification or ArmoRM; make_reward_model.py makes one from any LM);
#   ROWS.jsonl: eval rows (make_rows.py makes them); FORMATS: comma list of bf16,q8_0,f32 (default bf16,q8_0);
#   ROUNDS: alternations of amulet and llama.cpp per format (default 2).
# Environment: LLAMA_SRC (llama.cpp source with build/bin, default /work/llamacpp/llama.cpp), THREADS (both programs,
#   default nproc), LLAMA_REPS (llama-bench -r, default 2), KEEP_GGUF=1 (keep each format's body GGUF; by default it is
#   deleted once its format is measured, so that an 8B run holds one GGUF at a time on disk), AMULET (the launcher).
# One format at a time: its body GGUF (make_body_gguf.py, streaming, the score head left out), then per round
# `amulet score --batch 1 --weights F` under /usr/bin/time -v and `llama-bench -p <tokens per row> -n 0` on that GGUF.
# Prints per round and format: amulet rows/s, tokens per row, amulet tok/s, llama-bench's prefill tok/s, their ratio,
# amulet's peak RSS (/usr/bin/time -v), the weights' size on disk in that format (the GGUF's) and the peak above it.
set -euo pipefail
rm_dir=${1:?RM_DIR}; rows=${2:?ROWS.jsonl}; work=${3:?WORK_DIR}; formats=${4:-bf16,q8_0}; rounds=${5:-2}
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
src=${LLAMA_SRC:-/work/llamacpp/llama.cpp}
threads=${THREADS:-$(nproc)}
reps=${LLAMA_REPS:-2}
amulet=${AMULET:-$root/amulet}
mkdir -p "$work"
printf 'round\tformat\trows_s\ttok_row\tamulet_tok_s\tllama_pp_tok_s\tratio\tpeak_rss_gib\tgguf_gib\tabove_gib\n'
for f in ${formats//,/ }; do
  g="$work/$(basename "$rm_dir")-$f.gguf"
  [ -f "$g" ] || PYTHONPATH="$src/gguf-py" python3 "$here/make_body_gguf.py" "$rm_dir" "$g" "$f" >/dev/null
  for r in $(seq 1 "$rounds"); do
    out="$work/scores-$f-$r.jsonl"; rm -f "$out" "${out%.jsonl}.svg"
    /usr/bin/time -v "$amulet" score "$rows" --reward-model "$rm_dir" --out "$out" --batch 1 --weights "$f" \
      --product-threads "$threads" >/dev/null 2>"$work/score-$f-$r.err" || { tail -5 "$work/score-$f-$r.err"; exit 1; }
    rows_s=$(grep -o '[0-9.]* rows/s' "$work/score-$f-$r.err" | tail -1 | cut -d' ' -f1)
    rss_kb=$(grep 'Maximum resident' "$work/score-$f-$r.err" | grep -o '[0-9]*$')
    tok=$(python3 -c 'import json,sys; r=[json.loads(l)["reward_tokens"] for l in open(sys.argv[1])]; print(round(sum(r)/len(r)))' "$out")
    pp=$("$src/build/bin/llama-bench" -m "$g" -t "$threads" -p "$tok" -n 0 -r "$reps" -o json 2>/dev/null \
      | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)[0]["avg_ts"])')
    python3 -c 'import sys,os
r, f, rows_s, tok, pp, rss, g = sys.argv[1:]
a = float(rows_s) * int(tok)
peak, size = int(rss) / 2**20, os.path.getsize(g) / 2**30
print(f"{r}\t{f}\t{float(rows_s):.4f}\t{tok}\t{a:.2f}\t{pp}\t{a / float(pp):.2f}\t{peak:.2f}\t{size:.2f}\t{peak - size:+.2f}")' \
      "$r" "$f" "$rows_s" "$tok" "$pp" "$rss_kb" "$g"
  done
  [ "${KEEP_GGUF:-0}" = 1 ] || rm -f "$g"
done
