#!/usr/bin/env python3
"""Turn a Hugging Face causal-LM folder (Llama, Mistral, Qwen2 or Qwen3 layout) into a sequence-classification reward
model folder with a random `score` head, for measuring scoring speed on a real body shape without downloading a
reward model: the body's weights are linked, not copied.

usage: python3 make_reward_model.py LM_DIR OUT_DIR [LABELS]

OUT_DIR gets config.json (architecture <Body>ForSequenceClassification, num_labels, id2label), the tokenizer files,
body.safetensors (a link to the LM's weights; sharded checkpoints: one link per shard), score.safetensors (score.weight,
LABELS x hidden, BF16, random) and model.safetensors.index.json mapping every tensor but lm_head.weight. Pure Python."""
import json, os, random, struct, sys

src, out = sys.argv[1], sys.argv[2]
labels = int(sys.argv[3]) if len(sys.argv) > 3 else 1
cfg = json.load(open(os.path.join(src, "config.json")))
arch = cfg["architectures"][0]
if not arch.endswith("ForCausalLM"):
    raise SystemExit(f"{src}: architecture {arch} is not a causal LM")
os.makedirs(out, exist_ok=True)
cfg["architectures"] = [arch.replace("ForCausalLM", "ForSequenceClassification")]
cfg["num_labels"] = labels
cfg["id2label"] = {str(i): f"LABEL_{i}" for i in range(labels)}
cfg["label2id"] = {f"LABEL_{i}": i for i in range(labels)}
json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
for f in ("tokenizer.json", "tokenizer_config.json", "generation_config.json", "special_tokens_map.json"):
    if os.path.exists(os.path.join(src, f)):
        with open(os.path.join(src, f), "rb") as a, open(os.path.join(out, f), "wb") as b:
            b.write(a.read())


def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


weight_map = {}
index = os.path.join(src, "model.safetensors.index.json")
shards = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
for i, shard in enumerate(shards):
    name = "body.safetensors" if len(shards) == 1 else f"body-{i:05d}.safetensors"
    link = os.path.join(out, name)
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.abspath(os.path.join(src, shard)), link)
    for t in header(os.path.join(src, shard)):
        if t not in ("__metadata__", "lm_head.weight"):
            weight_map[t] = name

# score.weight: labels x hidden BF16 values drawn from N(0, 0.02), as transformers initialises a new head
h = cfg["hidden_size"]
rng = random.Random(7)
data = bytearray()
for _ in range(labels * h):
    bits = struct.unpack("<I", struct.pack("<f", rng.gauss(0.0, 0.02)))[0]
    data += struct.pack("<H", bits >> 16)
meta = json.dumps({"score.weight": {"dtype": "BF16", "shape": [labels, h], "data_offsets": [0, len(data)]}}).encode()
meta += b" " * (-len(meta) % 8)
with open(os.path.join(out, "score.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(meta)) + meta + bytes(data))
weight_map["score.weight"] = "score.safetensors"
json.dump({"metadata": {}, "weight_map": weight_map}, open(os.path.join(out, "model.safetensors.index.json"), "w"))
print(f"{out}: {cfg['architectures'][0]}, {labels} label(s), {len(weight_map)} tensors")
