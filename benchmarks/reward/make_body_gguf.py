#!/usr/bin/env python3
"""Convert the decoder body of a Hugging Face folder (Llama, Mistral or Qwen2 layout; F32/BF16/F16 safetensors, one
file or sharded, a reward model folder of make_reward_model.py included) to GGUF for llama-bench, streaming: one tensor
in memory at a time (quantized in slabs of rows), so that an 8B body converts in a few GiB of memory.

usage: PYTHONPATH=<llama.cpp source>/gguf-py python3 make_body_gguf.py HF_DIR OUT.gguf [f32|f16|bf16|q8_0|q4_0]

The same tensors and fields as /work/shared/tools/llamacpp/make_gguf.py (which holds every tensor in memory until it
writes): the tokenizer, chat template, q/k rows permuted for llama.cpp's rotary layout, llama3 rope factors. A reward
model's score.weight is left out (llama.cpp refuses a llama file with a tensor it does not use): this is the body whose
prefill llama-bench times."""
import json, math, os, struct, sys
import numpy as np
import gguf

src, out = sys.argv[1], sys.argv[2]
kind = sys.argv[3] if len(sys.argv) > 3 else "f32"
cfg = json.load(open(os.path.join(src, "config.json")))
tok = json.load(open(os.path.join(src, "tokenizer.json")))
arch = {"qwen2": "qwen2", "llama": "llama", "mistral": "llama"}[cfg["model_type"]]
V, H, L = cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"]
NH = cfg["num_attention_heads"]
NKV = cfg.get("num_key_value_heads", NH)
SLAB_ROWS = 4096

tensors = {}  # name -> (memmap, data start, header entry); links followed
for fn in sorted(f for f in os.listdir(src) if f.endswith(".safetensors")):
    path = os.path.realpath(os.path.join(src, fn))
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    for name, e in header.items():
        if name != "__metadata__":
            tensors[name] = (mm, 8 + n, e)


def rows_f32(name, first, count):
    """Rows [first, first + count) of a tensor as float32 (2-D; a vector is one row)."""
    mm, base, e = tensors[name]
    shape = e["shape"]
    cols = shape[-1] if len(shape) == 2 else shape[0]
    size = {"F32": 4, "F16": 2, "BF16": 2}[e["dtype"]]
    a = e["data_offsets"][0] + first * cols * size
    raw = mm[base + a:base + a + count * cols * size]
    if e["dtype"] == "F32":
        x = np.frombuffer(raw, dtype=np.float32)
    elif e["dtype"] == "F16":
        x = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
    else:
        x = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
    return x.reshape(count, cols)


def permute(x, n_head):
    """llama.cpp's rotary pairs adjacent dimensions of Q and K for `llama`; HF's pair the two halves."""
    return x.reshape(n_head, 2, x.shape[0] // n_head // 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)


QUANT = {"f16": gguf.GGMLQuantizationType.F16, "bf16": gguf.GGMLQuantizationType.BF16,
         "q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}

plan = []  # (gguf name, hf name, heads to permute or 0)
plan.append(("token_embd.weight", "model.embed_tokens.weight", 0))
plan.append(("output_norm.weight", "model.norm.weight", 0))
if "lm_head.weight" in tensors and not cfg.get("tie_word_embeddings", False):
    plan.append(("output.weight", "lm_head.weight", 0))
m = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
     "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
     "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
     "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
     "self_attn.o_proj.weight": "attn_output.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
     "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}
for i in range(L):
    for hf, gg in m.items():
        name = f"model.layers.{i}.{hf}"
        if name in tensors:
            heads = 0
            if arch == "llama" and hf.startswith("self_attn.q_proj"):
                heads = NH
            elif arch == "llama" and hf.startswith("self_attn.k_proj"):
                heads = NKV
            plan.append((f"blk.{i}.{gg}", name, heads))


def encoded(hf, heads):
    """The tensor's bytes as written: a matrix in `kind` (slabs of rows), a vector in F32."""
    shape = tensors[hf][2]["shape"]
    if len(shape) == 1 or kind == "f32":
        rows = shape[0] if len(shape) == 2 else 1
        x = rows_f32(hf, 0, rows)
        if heads:
            x = permute(x.reshape(shape), heads)
        return np.ascontiguousarray(x, dtype=np.float32).reshape(-1).view(np.uint8), gguf.GGMLQuantizationType.F32
    rows = shape[0]
    if heads:  # q/k are small: permuted whole
        slabs = [permute(rows_f32(hf, 0, rows), heads)]
    else:
        slabs = (rows_f32(hf, r, min(SLAB_ROWS, rows - r)) for r in range(0, rows, SLAB_ROWS))
    parts = [np.ascontiguousarray(gguf.quants.quantize(np.ascontiguousarray(s), QUANT[kind])).reshape(-1).view(np.uint8)
             for s in slabs]
    return np.concatenate(parts), QUANT[kind]


def nbytes(hf):
    shape = tensors[hf][2]["shape"]
    if len(shape) == 1 or kind == "f32":
        return int(np.prod(shape)) * 4, gguf.GGMLQuantizationType.F32
    t = QUANT[kind]
    block, size = gguf.GGML_QUANT_SIZES[t]
    return shape[0] * shape[1] // block * size, t


w = gguf.GGUFWriter(out, arch)
w.add_name(f"random-{arch}-shape")
w.add_context_length(min(cfg.get("max_position_embeddings", 4096), 32768))
w.add_embedding_length(H)
w.add_block_count(L)
w.add_feed_forward_length(cfg["intermediate_size"])
w.add_head_count(NH)
w.add_head_count_kv(NKV)
w.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
w.add_layer_norm_rms_eps(cfg.get("rms_norm_eps", 1e-6))
if arch == "llama":
    w.add_rope_dimension_count(cfg.get("head_dim", H // NH))
w.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                 "bf16": gguf.LlamaFileType.MOSTLY_BF16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
                 "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}[kind])
rev = {i: t for t, i in tok["model"]["vocab"].items()}
added = {a["id"]: a["content"] for a in tok.get("added_tokens", [])}
tokens, types = [], []
for i in range(V):
    if i in added:
        tokens.append(added[i]); types.append(gguf.TokenType.CONTROL)
    elif i in rev:
        tokens.append(rev[i]); types.append(gguf.TokenType.NORMAL)
    else:
        tokens.append(f"[PAD{i}]"); types.append(gguf.TokenType.UNUSED)
w.add_tokenizer_model("gpt2")
w.add_tokenizer_pre("qwen2" if arch == "qwen2" else "llama-bpe")
w.add_token_list(tokens)
w.add_token_types(types)
w.add_token_merges([x if isinstance(x, str) else " ".join(x) for x in tok["model"]["merges"]])
eos = cfg.get("eos_token_id", 0)
w.add_bos_token_id(cfg.get("bos_token_id", 0))
w.add_eos_token_id(eos if isinstance(eos, int) else eos[0])
pp = json.dumps(tok.get("post_processor") or {})
bos_text = next((a["content"] for a in tok.get("added_tokens", []) if a["id"] == cfg.get("bos_token_id")), None)
w.add_add_bos_token(bool(bos_text) and bos_text in pp)
tc_path = os.path.join(src, "tokenizer_config.json")
if os.path.exists(tc_path) and isinstance(json.load(open(tc_path)).get("chat_template"), str):
    w.add_chat_template(json.load(open(tc_path))["chat_template"])

rope = None
rs = cfg.get("rope_scaling") or {}
if arch == "llama" and rs.get("rope_type", rs.get("type")) == "llama3":  # llama3 rope scaling as per-dimension factors
    dim = cfg.get("head_dim", H // NH); base = cfg.get("rope_theta", 10000.0)
    factor, lo, hi = rs.get("factor", 8.0), rs.get("low_freq_factor", 1.0), rs.get("high_freq_factor", 4.0)
    old_ctx = rs.get("original_max_position_embeddings", 8192)
    factors = []
    for k in range(0, dim, 2):
        wavelen = 2 * math.pi / (1.0 / base ** (k / dim))
        if wavelen < old_ctx / hi:
            factors.append(1.0)
        elif wavelen > old_ctx / lo:
            factors.append(factor)
        else:
            smooth = (old_ctx / wavelen - lo) / (hi - lo)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    rope = np.array(factors, dtype=np.float32)

# first the tensor infos (shapes and sizes only), then the data one tensor at a time
for gg, hf, _ in plan:
    size, t = nbytes(hf)
    w.add_tensor_info(gg, tensors[hf][2]["shape"], np.float32, size, raw_dtype=t)
if rope is not None:
    w.add_tensor_info("rope_freqs.weight", rope.shape, np.float32, rope.nbytes)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_ti_data_to_file()
for gg, hf, heads in plan:
    data, _ = encoded(hf, heads)
    w.write_tensor_data(data)
if rope is not None:
    w.write_tensor_data(rope)
w.close()
print("wrote", out, round(os.path.getsize(out) / 1e9, 3), "GB")
