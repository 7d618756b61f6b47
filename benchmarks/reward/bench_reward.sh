#!/usr/bin/env bash
# Scoring speed of a reward model (prefill only) against llama.cpp's prefill on the same body, and peak memory.
# usage: bench_reward.sh RM_DIR ROWS.jsonl WORK_DIR [FORMATS] [ROUNDS]
#   RM_DIR: a reward model folder (sequence-classification or ArmoRM; make_reward_model.py makes one from any LM);
#   ROWS.jsonl: eval rows (make_rows.py makes them); FORMATS: comma list of bf16,q8_0,f32 (default bf16,q8_0);
#   ROUNDS: alternations of amulet and llama.cpp per format (default 2).
# Needs the llama.cpp build of /work/shared/tools/llamacpp (LLAMA_SRC, default /work/llamacpp/llama.cpp) and numpy.
# Prints per round and format: amulet rows/s, tokens per row, amulet tok/s, llama-bench -p <tokens per row> tok/s,
# their ratio, amulet's peak RSS (/usr/bin/time -v) and the weights' size on disk in that format (the GGUF's).
set -euo pipefail
rm_dir=${1:?RM_DIR}; rows=${2:?ROWS.jsonl}; work=${3:?WORK_DIR}; formats=${4:-bf16,q8_0}; rounds=${5:-2}
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
src=${LLAMA_SRC:-/work/llamacpp/llama.cpp}
threads=${THREADS:-$(nproc)}
mkdir -p "$work"
for f in ${formats//,/ }; do
  g="$work/$(basename "$rm_dir")-$f.gguf"
  [ -f "$g" ] || PYTHONPATH="$src/gguf-py" python3 /work/shared/tools/llamacpp/make_gguf.py "$rm_dir" "$g" "$f" >/dev/null
done
printf 'round\tformat\trows_s\ttok_row\tamulet_tok_s\tllama_pp_tok_s\tratio\tpeak_rss_gib\tgguf_gib\n'
for r in $(seq 1 "$rounds"); do
  for f in ${formats//,/ }; do
    out="$work/scores-$f-$r.jsonl"; rm -f "$out" "$out.svg" "${out%.jsonl}.svg"
    /usr/bin/time -v "$root/amulet" score "$rows" --reward-model "$rm_dir" --out "$out" --batch 1 --weights "$f" \
      >/dev/null 2>"$work/score-$f-$r.err" || { tail -5 "$work/score-$f-$r.err"; exit 1; }
    rows_s=$(grep -o '[0-9.]* rows/s' "$work/score-$f-$r.err" | tail -1 | cut -d' ' -f1)
    rss_kb=$(grep 'Maximum resident' "$work/score-$f-$r.err" | grep -o '[0-9]*$')
    tok=$(python3 -c 'import json,sys; r=[json.loads(l)["reward_tokens"] for l in open(sys.argv[1])]; print(round(sum(r)/len(r)))' "$out")
    g="$work/$(basename "$rm_dir")-$f.gguf"
    pp=$("$src/build/bin/llama-bench" -m "$g" -t "$threads" -p "$tok" -n 0 -r 2 -o json 2>/dev/null \
      | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)[0]["avg_ts"])')
    python3 -c 'import sys,os
r, f, rows_s, tok, pp, rss, g = sys.argv[1:]
a = float(rows_s) * int(tok)
print(f"{r}\t{f}\t{float(rows_s):.3f}\t{tok}\t{a:.1f}\t{pp}\t{a / float(pp):.2f}\t{int(rss) / 2**20:.2f}\t{os.path.getsize(g) / 2**30:.2f}")' \
      "$r" "$f" "$rows_s" "$tok" "$pp" "$rss_kb" "$g"
  done
done
