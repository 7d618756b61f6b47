#!/usr/bin/env python3
"""Writes tiny seeded checkpoints in the Hugging Face layout and the logits a second, independent
implementation computes for them: numpy in float64, written from the `transformers` modelling code
(modeling_llama.py, modeling_mistral.py, modeling_qwen2.py, modeling_qwen3.py, modeling_gpt2.py,
modeling_gemma2.py, modeling_gemma3.py, modeling_phi3.py and modeling_rope_utils.py), not from this project's Java
code.

For every case NAME below it writes NAME/config.json, NAME/model.safetensors (float32) and
NAME/expected.json: the input token ids, and for a few positions the top-k logits (ids and values) and
the log-sum-exp of the whole row. ReferenceCheckpointsTest loads each folder with the Java model and
compares (1e-4). Needs python3 and numpy only (no torch, no transformers). Run from any directory:
    python3 regenerate_reference.py
"""
import json
import math
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_K = 5
SEQ_LEN = 12
POSITIONS = [0, 3, 7, 11]


# ---------------------------------------------------------------- checkpoints

def write_safetensors(path, tensors):
    """The safetensors format: u64 little-endian header length, JSON header, 8-byte aligned data."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def llama_like_weights(cfg, rng):
    h = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", h // nh)
    inter = cfg["intermediate_size"]
    v = cfg["vocab_size"]
    bias = cfg.get("attention_bias", False) or cfg["model_type"] == "qwen2"

    def normal(*shape, std=0.2):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    w = {"model.embed_tokens.weight": normal(v, h, std=0.5)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        w[p + "input_layernorm.weight"] = 1 + normal(h, std=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + normal(h, std=0.1)
        w[p + "self_attn.q_proj.weight"] = normal(nh * hd, h)
        w[p + "self_attn.k_proj.weight"] = normal(kv * hd, h)
        w[p + "self_attn.v_proj.weight"] = normal(kv * hd, h)
        w[p + "self_attn.o_proj.weight"] = normal(h, nh * hd)
        if bias:
            w[p + "self_attn.q_proj.bias"] = normal(nh * hd, std=0.1)
            w[p + "self_attn.k_proj.bias"] = normal(kv * hd, std=0.1)
            w[p + "self_attn.v_proj.bias"] = normal(kv * hd, std=0.1)
        if cfg["model_type"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = 1 + normal(hd, std=0.1)
            w[p + "self_attn.k_norm.weight"] = 1 + normal(hd, std=0.1)
        w[p + "mlp.gate_proj.weight"] = normal(inter, h)
        w[p + "mlp.up_proj.weight"] = normal(inter, h)
        w[p + "mlp.down_proj.weight"] = normal(h, inter)
    w["model.norm.weight"] = 1 + normal(h, std=0.1)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = normal(v, h, std=0.5)
    return w


def gpt2_weights(cfg, rng):
    h = cfg["n_embd"]
    inner = cfg["n_inner"] or 4 * h

    def normal(*shape, std=0.2):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    w = {"transformer.wte.weight": normal(cfg["vocab_size"], h, std=0.5),
         "transformer.wpe.weight": normal(cfg["n_positions"], h, std=0.3)}
    for layer in range(cfg["n_layer"]):
        p = f"transformer.h.{layer}."
        for ln in ("ln_1", "ln_2"):
            w[p + ln + ".weight"] = 1 + normal(h, std=0.1)
            w[p + ln + ".bias"] = normal(h, std=0.1)
        # Conv1D keeps its weight as [in, out]
        w[p + "attn.c_attn.weight"] = normal(h, 3 * h)
        w[p + "attn.c_attn.bias"] = normal(3 * h, std=0.1)
        w[p + "attn.c_proj.weight"] = normal(h, h)
        w[p + "attn.c_proj.bias"] = normal(h, std=0.1)
        w[p + "mlp.c_fc.weight"] = normal(h, inner)
        w[p + "mlp.c_fc.bias"] = normal(inner, std=0.1)
        w[p + "mlp.c_proj.weight"] = normal(inner, h, std=0.1)
        w[p + "mlp.c_proj.bias"] = normal(h, std=0.1)
    w["transformer.ln_f.weight"] = 1 + normal(h, std=0.1)
    w["transformer.ln_f.bias"] = normal(h, std=0.1)
    return w


def gemma_weights(cfg, rng, prefix="model."):
    """Gemma 2 / Gemma 3 text: Llama's tensors plus pre/post-feedforward and post-attention norms (and q/k norms for
    Gemma 3). Norm weights are stored around 0: the model multiplies by (1 + w)."""
    h = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"]
    hd = cfg["head_dim"]
    inter = cfg["intermediate_size"]

    def normal(*shape, std=0.2):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    w = {prefix + "embed_tokens.weight": normal(cfg["vocab_size"], h, std=0.5)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"{prefix}layers.{layer}."
        for norm in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                     "post_feedforward_layernorm"):
            w[p + norm + ".weight"] = normal(h, std=0.3)
        w[p + "self_attn.q_proj.weight"] = normal(nh * hd, h)
        w[p + "self_attn.k_proj.weight"] = normal(kv * hd, h)
        w[p + "self_attn.v_proj.weight"] = normal(kv * hd, h)
        w[p + "self_attn.o_proj.weight"] = normal(h, nh * hd)
        if cfg["model_type"] == "gemma3_text":
            w[p + "self_attn.q_norm.weight"] = normal(hd, std=0.3)
            w[p + "self_attn.k_norm.weight"] = normal(hd, std=0.3)
        w[p + "mlp.gate_proj.weight"] = normal(inter, h)
        w[p + "mlp.up_proj.weight"] = normal(inter, h)
        w[p + "mlp.down_proj.weight"] = normal(h, inter)
    w[prefix + "norm.weight"] = normal(h, std=0.3)
    return w


# ---------------------------------------------------------------- the models, in float64

def f64(w):
    return {k: v.astype(np.float64) for k, v in w.items()}


def rms_norm(x, weight, eps):
    # LlamaRMSNorm / Qwen2RMSNorm / Qwen3RMSNorm / MistralRMSNorm: x * rsqrt(mean(x^2) + eps) * weight
    variance = np.mean(x * x, axis=-1, keepdims=True)
    return weight * (x / np.sqrt(variance + eps))


def layer_norm(x, weight, bias, eps):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def rope_inv_freq(cfg, head_dim):
    """modeling_rope_utils: _compute_default_rope_parameters, then linear or llama3 scaling."""
    params = cfg.get("rope_scaling") or {}
    kind = params.get("rope_type", params.get("type", "default"))
    base = cfg.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    if kind == "default":
        return inv_freq
    if kind == "linear":
        # _compute_linear_scaling_rope_parameters: inv_freq /= factor (positions interpolated by 1/factor)
        return inv_freq / params["factor"]
    if kind == "llama3":
        # _compute_llama3_parameters
        factor = params["factor"]
        low_freq_factor = params["low_freq_factor"]
        high_freq_factor = params["high_freq_factor"]
        old_context_len = params["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        return np.where(is_medium, smoothed, inv_freq_llama)
    raise ValueError(kind)


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def causal_mask(n, sliding_window=None):
    q = np.arange(n)[:, None]
    k = np.arange(n)[None, :]
    allowed = k <= q
    if sliding_window is not None:
        # masking_utils.sliding_window_overlay: kv_idx > q_idx - sliding_window
        allowed &= k > q - sliding_window
    return np.where(allowed, 0.0, -np.inf)


def llama_like_logits(cfg, w, ids):
    """LlamaForCausalLM (Mistral, Qwen2, Qwen3 differ only where marked)."""
    w = f64(w)
    h = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or h // nh
    eps = cfg["rms_norm_eps"]
    n = len(ids)
    window = cfg.get("sliding_window") if cfg["model_type"] == "mistral" else None
    mask = causal_mask(n, window)
    inv_freq = rope_inv_freq(cfg, hd)
    freqs = np.outer(np.arange(n, dtype=np.float64), inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)
    x = w["model.embed_tokens.weight"][ids]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        a = p + "self_attn."
        res = x
        x = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name):
            y = x @ w[a + name + ".weight"].T
            return y + w[a + name + ".bias"] if (a + name + ".bias") in w else y

        q = proj("q_proj").reshape(n, nh, hd)
        k = proj("k_proj").reshape(n, kv, hd)
        v = proj("v_proj").reshape(n, kv, hd)
        if cfg["model_type"] == "qwen3":
            # Qwen3Attention: q_norm / k_norm over head_dim, before the rotary embedding
            q = rms_norm(q, w[a + "q_norm.weight"], eps)
            k = rms_norm(k, w[a + "k_norm.weight"], eps)
        q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
        k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
        # repeat_kv: query head j reads key/value head j // (nh // kv)
        rep = nh // kv
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        out = np.zeros((n, nh, hd))
        for head in range(nh):
            scores = q[:, head, :] @ k[:, head, :].T * hd ** -0.5 + mask
            out[:, head, :] = softmax(scores) @ v[:, head, :]
        x = res + out.reshape(n, nh * hd) @ w[a + "o_proj.weight"].T
        res = x
        x = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = x @ w[p + "mlp.gate_proj.weight"].T
        up = x @ w[p + "mlp.up_proj.weight"].T
        silu = gate / (1 + np.exp(-gate))
        x = res + (silu * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


def gemma_rms_norm(x, weight, eps):
    # Gemma2RMSNorm / Gemma3RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + weight)
    variance = np.mean(x * x, axis=-1, keepdims=True)
    return (x / np.sqrt(variance + eps)) * (1.0 + weight)


def gelu_tanh(x):
    # GELUActivation(approximate="tanh") = gelu_pytorch_tanh
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gemma_layer_types(cfg):
    """layer_types, or the configs' default: Gemma 2 alternates from a sliding layer 0; Gemma 3 makes every
    sliding_window_pattern-th layer (1-based) global."""
    if cfg.get("layer_types"):
        return cfg["layer_types"]
    pattern = 2 if cfg["model_type"] == "gemma2" else cfg.get("sliding_window_pattern", 6)
    return ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(cfg["num_hidden_layers"])]


def gemma_logits(cfg, w, ids, prefix="model."):
    """Gemma2ForCausalLM / Gemma3ForCausalLM (the language model of Gemma3ForConditionalGeneration too)."""
    w = f64(w)
    gemma3 = cfg["model_type"] == "gemma3_text"
    h = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"]
    hd = cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    n = len(ids)
    types = gemma_layer_types(cfg)
    masks = {"full_attention": causal_mask(n), "sliding_attention": causal_mask(n, cfg["sliding_window"])}

    def tables(inv_freq):
        freqs = np.outer(np.arange(n, dtype=np.float64), inv_freq)
        emb = np.concatenate([freqs, freqs], axis=-1)
        return np.cos(emb), np.sin(emb)

    rope = {"full_attention": tables(rope_inv_freq(cfg, hd))}
    # Gemma 3: sliding layers rotate with rope_local_base_freq and no scaling; Gemma 2: one rotary for all
    rope["sliding_attention"] = tables(rope_inv_freq({"rope_theta": cfg["rope_local_base_freq"]}, hd)) \
        if gemma3 else rope["full_attention"]
    scaling = cfg["query_pre_attn_scalar"] ** -0.5
    attn_cap = cfg.get("attn_logit_softcapping")
    # Gemma2Model / Gemma3TextScaledWordEmbedding: the normalizer is a tensor of the model's dtype (float32 here)
    x = w[prefix + "embed_tokens.weight"][ids] * float(np.float32(h ** 0.5))
    for layer in range(cfg["num_hidden_layers"]):
        p = f"{prefix}layers.{layer}."
        a = p + "self_attn."
        cos, sin = rope[types[layer]]
        mask = masks[types[layer]]
        res = x
        x = gemma_rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (x @ w[a + "q_proj.weight"].T).reshape(n, nh, hd)
        k = (x @ w[a + "k_proj.weight"].T).reshape(n, kv, hd)
        v = (x @ w[a + "v_proj.weight"].T).reshape(n, kv, hd)
        if gemma3:
            q = gemma_rms_norm(q, w[a + "q_norm.weight"], eps)
            k = gemma_rms_norm(k, w[a + "k_norm.weight"], eps)
        q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
        k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
        rep = nh // kv
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        out = np.zeros((n, nh, hd))
        for head in range(nh):
            scores = q[:, head, :] @ k[:, head, :].T * scaling
            if attn_cap is not None:
                scores = np.tanh(scores / attn_cap) * attn_cap
            out[:, head, :] = softmax(scores + mask) @ v[:, head, :]
        y = out.reshape(n, nh * hd) @ w[a + "o_proj.weight"].T
        x = res + gemma_rms_norm(y, w[p + "post_attention_layernorm.weight"], eps)
        res = x
        x = gemma_rms_norm(x, w[p + "pre_feedforward_layernorm.weight"], eps)
        y = (gelu_tanh(x @ w[p + "mlp.gate_proj.weight"].T) * (x @ w[p + "mlp.up_proj.weight"].T)) \
            @ w[p + "mlp.down_proj.weight"].T
        x = res + gemma_rms_norm(y, w[p + "post_feedforward_layernorm.weight"], eps)
    x = gemma_rms_norm(x, w[prefix + "norm.weight"], eps)
    logits = x @ w[prefix + "embed_tokens.weight"].T
    final_cap = cfg.get("final_logit_softcapping")
    if final_cap is not None:
        logits = np.tanh(logits / final_cap) * final_cap
    return logits


def gpt2_logits(cfg, w, ids):
    """GPT2LMHeadModel: learned positions, pre-LayerNorm blocks, Conv1D projections, gelu_new, tied head."""
    w = f64(w)
    h = cfg["n_embd"]
    nh = cfg["n_head"]
    hd = h // nh
    eps = cfg["layer_norm_epsilon"]
    n = len(ids)
    mask = causal_mask(n)
    x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][np.arange(n)]
    for layer in range(cfg["n_layer"]):
        p = f"transformer.h.{layer}."
        res = x
        x = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = x @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (qkv[:, i * h:(i + 1) * h].reshape(n, nh, hd) for i in range(3))
        out = np.zeros((n, nh, hd))
        for head in range(nh):
            scores = q[:, head, :] @ k[:, head, :].T / math.sqrt(hd) + mask
            out[:, head, :] = softmax(scores) @ v[:, head, :]
        x = res + out.reshape(n, h) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        res = x
        x = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        y = x @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        # NewGELUActivation
        y = 0.5 * y * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (y + 0.044715 * y ** 3)))
        x = res + y @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    return x @ w["transformer.wte.weight"].T


# ---------------------------------------------------------------- the cases

def llama_config(model_type, arch, **extra):
    cfg = {"architectures": [arch], "model_type": model_type, "hidden_size": 32, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 96,
           "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
           "tie_word_embeddings": False, "attention_bias": False, "bos_token_id": 1, "eos_token_id": 2,
           "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


def gemma_config(model_type, arch, **extra):
    cfg = {"architectures": [arch], "model_type": model_type, "hidden_size": 32, "num_hidden_layers": 3,
           "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 48,
           "vocab_size": 96, "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
           "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": True, "attention_bias": False,
           "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


# Gemma 2: three layers (sliding, global, sliding), a window of 4 in a 12-token prompt, head_dim 16 beside
# hidden / heads = 8, query_pre_attn_scalar 24 (not head_dim), and caps small enough to bite: the raw attention
# scores reach about 3 and the raw logits about 8
GEMMA2 = gemma_config("gemma2", "Gemma2ForCausalLM", sliding_window=4, query_pre_attn_scalar=24,
                      attn_logit_softcapping=2.0, final_logit_softcapping=4.0, rope_theta=10000.0,
                      hidden_act="gelu_pytorch_tanh")
# Gemma 3 text: q/k norms, layers sliding, sliding, global (sliding_window_pattern 3), window 5, a local rotary base
# of 100 against a global 10000 with linear scaling (factor 2), no soft-capping
GEMMA3 = gemma_config("gemma3_text", "Gemma3ForCausalLM", sliding_window=5, sliding_window_pattern=3,
                      query_pre_attn_scalar=12, rope_theta=10000.0, rope_local_base_freq=100.0,
                      rope_scaling={"rope_type": "linear", "factor": 2.0}, attn_logit_softcapping=None,
                      final_logit_softcapping=None, eos_token_id=[1, 95])
# Gemma3ForConditionalGeneration: the text model's fields in text_config (with layer_types), its weights under
# language_model.model.; a vision tower's config and weights that a text-only reader leaves alone
GEMMA3_TEXT = gemma_config("gemma3_text", "Gemma3ForCausalLM", sliding_window=3, query_pre_attn_scalar=16,
                           rope_theta=10000.0, rope_local_base_freq=50.0,
                           layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                           attn_logit_softcapping=None, final_logit_softcapping=None)
for key in ("architectures", "bos_token_id", "eos_token_id", "torch_dtype"):
    del GEMMA3_TEXT[key]
GEMMA3_MULTIMODAL = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
                     "text_config": GEMMA3_TEXT, "bos_token_id": 2, "eos_token_id": [1, 95], "torch_dtype": "float32",
                     "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 8, "num_hidden_layers": 1},
                     "mm_tokens_per_image": 4, "image_token_index": 90}

CASES = {
    "llama": llama_config("llama", "LlamaForCausalLM"),
    # linear scaling (position interpolation); head_dim 16 so that several frequencies turn within 12 positions
    "llama-linear": llama_config("llama", "LlamaForCausalLM", num_attention_heads=2, num_key_value_heads=1,
                                 head_dim=16, rope_scaling={"type": "linear", "factor": 4.0}),
    # llama3 bands: with theta 10000 and head_dim 16 the wavelengths are 6.3 (high, kept), 19.9 (medium,
    # smoothed) and 62.8 and up (low, divided by 8) against 32 / 4 = 8 and 32 / 1 = 32
    "llama3": llama_config("llama", "LlamaForCausalLM", num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                           rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 32}),
    "mistral-window": llama_config("mistral", "MistralForCausalLM", sliding_window=4),
    "qwen2": llama_config("qwen2", "Qwen2ForCausalLM", tie_word_embeddings=True, rms_norm_eps=1e-6,
                          rope_theta=1000000.0, use_sliding_window=False, sliding_window=None),
    "qwen3": llama_config("qwen3", "Qwen3ForCausalLM", num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                          tie_word_embeddings=True, rms_norm_eps=1e-6, rope_theta=1000000.0,
                          use_sliding_window=False, sliding_window=None),
    "gpt2": {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 32, "n_layer": 2, "n_head": 4,
             "n_inner": None, "n_positions": 64, "vocab_size": 96, "layer_norm_epsilon": 1e-5,
             "activation_function": "gelu_new", "tie_word_embeddings": True, "bos_token_id": 0, "eos_token_id": 0,
             "torch_dtype": "float32"},
    "gemma2": GEMMA2,
    "gemma3": GEMMA3,
    "gemma3-multimodal": GEMMA3_MULTIMODAL,
}


def main():
    for index, (name, cfg) in enumerate(CASES.items()):
        rng = np.random.default_rng(1000 + index)
        gpt2 = cfg["model_type"] == "gpt2"
        if cfg["model_type"] == "gemma3":
            text = dict(cfg["text_config"])
            weights = gemma_weights(text, rng, "language_model.model.")
            weights["vision_tower.vision_model.post_layernorm.weight"] = np.ones(8, dtype=np.float32)
            ids = [int(t) for t in rng.integers(3, text["vocab_size"], size=SEQ_LEN)]
            logits = gemma_logits(text, weights, np.array(ids), "language_model.model.")
        elif cfg["model_type"] in ("gemma2", "gemma3_text"):
            weights = gemma_weights(cfg, rng)
            ids = [int(t) for t in rng.integers(3, cfg["vocab_size"], size=SEQ_LEN)]
            logits = gemma_logits(cfg, weights, np.array(ids))
        else:
            weights = gpt2_weights(cfg, rng) if gpt2 else llama_like_weights(cfg, rng)
            ids = [int(t) for t in rng.integers(3, cfg["vocab_size"], size=SEQ_LEN)]
            logits = (gpt2_logits if gpt2 else llama_like_logits)(cfg, weights, np.array(ids))
        out_dir = os.path.join(HERE, name)
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        write_safetensors(os.path.join(out_dir, "model.safetensors"), weights)
        positions = []
        for pos in POSITIONS:
            row = logits[pos]
            top = np.argsort(-row, kind="stable")[:TOP_K]
            gaps = -np.diff(row[np.argsort(-row, kind="stable")[:TOP_K + 1]])
            if gaps.min() < 1e-3:
                raise SystemExit(f"{name} position {pos}: top-{TOP_K} ranks closer than 1e-3, pick another seed")
            lse = float(np.max(row) + np.log(np.sum(np.exp(row - np.max(row)))))
            positions.append({"position": pos, "top_ids": [int(i) for i in top],
                              "top_logits": [round(float(row[i]), 7) for i in top], "logsumexp": round(lse, 7)})
        expected = {"generator": "regenerate_reference.py (numpy " + np.__version__ + ", float64)",
                    "token_ids": ids, "positions": positions}
        with open(os.path.join(out_dir, "expected.json"), "w") as f:
            json.dump(expected, f, indent=2)
            f.write("\n")
        print(f"{name}: {len(weights)} tensors, logits range [{logits.min():.2f}, {logits.max():.2f}]")


# ---------------------------------------------------------------- Phi-3 (modeling_phi3.py, longrope of modeling_rope_utils.py)

def phi3_weights(cfg, rng):
    """Phi3ForCausalLM: q, k, v rows fused in qkv_proj; gate, up rows fused in gate_up_proj; no biases."""
    h = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"]
    hd = h // nh
    inter = cfg["intermediate_size"]

    def normal(*shape, std=0.2):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    w = {"model.embed_tokens.weight": normal(cfg["vocab_size"], h, std=0.5)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        w[p + "input_layernorm.weight"] = 1 + normal(h, std=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + normal(h, std=0.1)
        w[p + "self_attn.qkv_proj.weight"] = normal(nh * hd + 2 * kv * hd, h)
        w[p + "self_attn.o_proj.weight"] = normal(h, nh * hd)
        w[p + "mlp.gate_up_proj.weight"] = normal(2 * inter, h)
        w[p + "mlp.down_proj.weight"] = normal(h, inter)
    w["model.norm.weight"] = 1 + normal(h, std=0.1)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = normal(cfg["vocab_size"], h, std=0.5)
    return w


def longrope(cfg, rotary_dim, seq_len):
    """_compute_longrope_parameters: (inv_freq, attention_factor) for a sequence of seq_len tokens."""
    params = cfg["rope_scaling"]
    base = cfg.get("rope_theta", 10000.0)
    original = cfg["original_max_position_embeddings"]
    factor = cfg["max_position_embeddings"] / original
    attention_factor = params.get("attention_factor")
    if attention_factor is None:
        attention_factor = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))
    # longrope_frequency_update: seq_len = max(position_ids) + 1; long factors beyond the original length
    ext = np.array(params["long_factor"] if seq_len > original else params["short_factor"], dtype=np.float64)
    inv_freq = 1.0 / (ext * base ** (np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim))
    return inv_freq, attention_factor


def phi3_logits(cfg, w, ids):
    """Phi3ForCausalLM: Llama blocks with fused projections, longrope and a partial rotary factor."""
    w = f64(w)
    h = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"]
    hd = h // nh
    inter = cfg["intermediate_size"]
    eps = cfg["rms_norm_eps"]
    n = len(ids)
    mask = causal_mask(n, cfg.get("sliding_window"))
    rotary_dim = int(hd * cfg.get("partial_rotary_factor", 1.0))
    inv_freq, attention_factor = longrope(cfg, rotary_dim, n)
    freqs = np.outer(np.arange(n, dtype=np.float64), inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb) * attention_factor, np.sin(emb) * attention_factor

    def rope(x):
        # apply_rotary_pos_emb of modeling_phi3: rotate the first rotary_dim columns, pass the rest
        rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
        rot = rot * cos[:, None, :] + rotate_half(rot) * sin[:, None, :]
        return np.concatenate([rot, rest], axis=-1)

    x = w["model.embed_tokens.weight"][ids]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        a = p + "self_attn."
        res = x
        x = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        qkv = x @ w[a + "qkv_proj.weight"].T
        q = qkv[:, :nh * hd].reshape(n, nh, hd)
        k = qkv[:, nh * hd:nh * hd + kv * hd].reshape(n, kv, hd)
        v = qkv[:, nh * hd + kv * hd:].reshape(n, kv, hd)
        q, k = rope(q), rope(k)
        rep = nh // kv
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        out = np.zeros((n, nh, hd))
        for head in range(nh):
            scores = q[:, head, :] @ k[:, head, :].T * hd ** -0.5 + mask
            out[:, head, :] = softmax(scores) @ v[:, head, :]
        x = res + out.reshape(n, nh * hd) @ w[a + "o_proj.weight"].T
        res = x
        x = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        # Phi3MLP: gate, up = gate_up_proj(x).chunk(2); down_proj(up * silu(gate))
        gate_up = x @ w[p + "mlp.gate_up_proj.weight"].T
        gate, up = gate_up[:, :inter], gate_up[:, inter:]
        x = res + (up * (gate / (1 + np.exp(-gate)))) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


def phi3_config(**extra):
    cfg = {"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": 64, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 80, "vocab_size": 96,
           "max_position_embeddings": 64, "original_max_position_embeddings": 8, "rms_norm_eps": 1e-5,
           "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False, "bos_token_id": 1,
           "eos_token_id": 32, "sliding_window": None, "partial_rotary_factor": 1.0, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


# head_dim 16; the factor lists differ from each other and from 1 at every frequency
PHI3_CASES = {
    # 12 tokens > original 8: long factors at every position; partial rotary 0.75 (12 of 16 dimensions, 6 factors),
    # default attention factor sqrt(1 + ln(64 / 8) / ln 8), tied embeddings (Phi-4-mini), a window of 10 tokens
    "phi3-long": phi3_config(partial_rotary_factor=0.75, tie_word_embeddings=True, sliding_window=10,
                             rope_scaling={"type": "longrope",
                                           "short_factor": [1.0, 1.3, 1.9, 2.6, 3.4, 4.5],
                                           "long_factor": [1.2, 2.1, 3.7, 6.0, 9.5, 15.0]}),
    # 12 tokens <= original 16: short factors; full rotary, the older type name 'su' and an explicit attention factor
    "phi3-short": phi3_config(original_max_position_embeddings=16,
                              rope_scaling={"type": "su", "attention_factor": 1.15,
                                            "short_factor": [1.1, 1.4, 2.0, 2.9, 4.1, 5.2, 6.6, 8.0],
                                            "long_factor": [1.5, 2.5, 4.0, 7.0, 11.0, 17.0, 26.0, 40.0]}),
}
# the long case also records the logits of its first SHORT_PREFIX tokens alone (short factors: 8 <= 8)
SHORT_PREFIX = 8


def top_positions(name, logits, positions):
    out = []
    for pos in positions:
        row = logits[pos]
        top = np.argsort(-row, kind="stable")[:TOP_K]
        gaps = -np.diff(row[np.argsort(-row, kind="stable")[:TOP_K + 1]])
        if gaps.min() < 1e-3:
            raise SystemExit(f"{name} position {pos}: top-{TOP_K} ranks closer than 1e-3, pick another seed")
        lse = float(np.max(row) + np.log(np.sum(np.exp(row - np.max(row)))))
        out.append({"position": pos, "top_ids": [int(i) for i in top],
                    "top_logits": [round(float(row[i]), 7) for i in top], "logsumexp": round(lse, 7)})
    return out


def phi3_main():
    for index, (name, cfg) in enumerate(PHI3_CASES.items()):
        rng = np.random.default_rng(2810 + index)
        weights = phi3_weights(cfg, rng)
        ids = [int(t) for t in rng.integers(3, cfg["vocab_size"], size=SEQ_LEN)]
        logits = phi3_logits(cfg, weights, np.array(ids))
        out_dir = os.path.join(HERE, name)
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        write_safetensors(os.path.join(out_dir, "model.safetensors"), weights)
        expected = {"generator": "regenerate_reference.py (numpy " + np.__version__ + ", float64)",
                    "token_ids": ids, "positions": top_positions(name, logits, POSITIONS)}
        if SEQ_LEN > cfg["original_max_position_embeddings"]:
            prefix = phi3_logits(cfg, weights, np.array(ids[:SHORT_PREFIX]))
            expected["short_prefix"] = {"length": SHORT_PREFIX,
                                        "positions": top_positions(name + " prefix", prefix, [3, SHORT_PREFIX - 1])}
        with open(os.path.join(out_dir, "expected.json"), "w") as f:
            json.dump(expected, f, indent=2)
            f.write("\n")
        print(f"{name}: {len(weights)} tensors, logits range [{logits.min():.2f}, {logits.max():.2f}]")


if __name__ == "__main__":
    main()
    phi3_main()
