"""PyTorch eager CPU peer for `npm run bench`: the same GPT-2 forward as Hugging Face's eager GPT2LMHeadModel with
output_attentions=True (embeddings, 12 blocks keeping every attention probability matrix, final LayerNorm, logits
at every position), on the same safetensors weights and token ids as the engine.

usage: /usr/bin/python3 bench/peer_torch.py <model dir> <ids.json {n: [ids]}> <runs>
Prints progress to stderr and, as its last stdout line, JSON [{threads, n, medianS}].
"""
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch


def read_safetensors(path):
    """Tensors of an F32 safetensors file as torch tensors (one read, no copies beyond that)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = bytearray(os.fstat(f.fileno()).st_size - 8 - n)  # writable, so torch gets ordinary tensors
        f.readinto(data)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data, dtype=np.float32, count=(end - begin) // 4, offset=begin).reshape(info["shape"])
        out[name] = torch.from_numpy(arr)
    return out


def blas_library():
    """The BLAS shared library this process mapped (Debian's torch uses whatever libblas.so.3 points to:
    the reference BLAS is ~10x slower than OpenBLAS; apt-get install -y libopenblas0-pthread)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line}
        return ", ".join(sorted(libs)) or "none mapped"
    except OSError:
        return "unknown"


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward(w, cfg, ids):
    """Returns (logits [n, vocab], attentions: list of [heads, n, n])."""
    d, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    dh = d // H
    n = ids.shape[0]
    p = "transformer."
    x = w[p + "wte.weight"][ids] + w[p + "wpe.weight"][:n]
    mask = torch.tril(torch.ones(n, n, dtype=torch.bool))
    neg = torch.finfo(torch.float32).min
    attentions = []
    for l in range(L):
        h = f"{p}h.{l}."
        a = torch.nn.functional.layer_norm(x, (d,), w[h + "ln_1.weight"], w[h + "ln_1.bias"], eps)
        qkv = torch.addmm(w[h + "attn.c_attn.bias"], a, w[h + "attn.c_attn.weight"])  # Conv1D: [in, out]
        q, k, v = qkv.split(d, dim=1)
        q = q.view(n, H, dh).transpose(0, 1)  # [H, n, dh]
        k = k.view(n, H, dh).transpose(0, 1)
        v = v.view(n, H, dh).transpose(0, 1)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
        scores = torch.where(mask, scores, torch.tensor(neg))
        probs = torch.softmax(scores, dim=-1)
        attentions.append(probs)
        z = torch.matmul(probs, v).transpose(0, 1).reshape(n, d)
        x = x + torch.addmm(w[h + "attn.c_proj.bias"], z, w[h + "attn.c_proj.weight"])
        m = torch.nn.functional.layer_norm(x, (d,), w[h + "ln_2.weight"], w[h + "ln_2.bias"], eps)
        m = gelu_new(torch.addmm(w[h + "mlp.c_fc.bias"], m, w[h + "mlp.c_fc.weight"]))
        x = x + torch.addmm(w[h + "mlp.c_proj.bias"], m, w[h + "mlp.c_proj.weight"])
    x = torch.nn.functional.layer_norm(x, (d,), w[p + "ln_f.weight"], w[p + "ln_f.bias"], eps)
    logits = torch.matmul(x, w[p + "wte.weight"].t())  # tied head
    return logits, attentions


def main():
    model_dir, ids_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg = json.load(open(f"{model_dir}/config.json"))
    w = read_safetensors(f"{model_dir}/model.safetensors")
    lengths = {int(n): torch.tensor(ids, dtype=torch.long) for n, ids in json.load(open(ids_path)).items()}
    results = []
    print(f"torch {torch.__version__}, BLAS: {blas_library()}", file=sys.stderr)
    with torch.inference_mode():
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for n, ids in sorted(lengths.items()):
                forward(w, cfg, ids)  # warm-up
                times = []
                for _ in range(runs):
                    t = time.perf_counter()
                    logits, att = forward(w, cfg, ids)
                    times.append(time.perf_counter() - t)
                    assert logits.shape == (n, cfg["vocab_size"]) and len(att) == cfg["n_layer"]
                results.append({"threads": threads, "n": n, "medianS": statistics.median(times)})
                print(f"torch threads={threads} n={n}: {statistics.median(times) * 1000:.1f} ms", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
