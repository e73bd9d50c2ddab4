#!/usr/bin/python3
"""The tfm Transformer in PyTorch (same architecture, parameter names and
loss as libtfm's), for the training benchmark and the cross-check test.

  train_torch.py bench PRESET THREADS STEPS [bf16]   one TSV line like
      train_bench; bf16: forward and loss under torch.autocast (bf16 matrix
      products, fp32 master weights and Adam state)
  train_torch.py check MODEL.h5 BATCH.h5 OUT.h5  loss and gradients for the
      weights of a tfm model file and a batch (/src, /tgt_in, /tgt_out padded
      id arrays), no dropout: OUT.h5 gets attributes loss, nll (sums) and
      /grads/<name> of loss / target tokens (model_test.cpp compares them)
"""
import math
import os
import random
import resource
import sys
import time

import torch
import torch.nn.functional as F

PRESETS = {  # d_model, heads, ffn, encoder layers, decoder layers, vocab
    "tiny": (128, 4, 512, 2, 2, 8000),
    "small": (256, 4, 1024, 3, 3, 10000),
    "base": (512, 8, 2048, 6, 6, 37000),
}
PAD, BOS, EOS = 0, 2, 3


class Linear(torch.nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(d_out, d_in))
        self.bias = torch.nn.Parameter(torch.zeros(d_out))
        torch.nn.init.xavier_uniform_(self.weight)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Norm(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))
        self.bias = torch.nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return F.layer_norm(x, x.shape[-1:], self.weight, self.bias, 1e-5)


class Attention(torch.nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.q, self.k, self.v, self.out = (Linear(d, d) for _ in range(4))
        self.heads, self.dropout = heads, dropout

    def forward(self, x, mem, key_mask):  # key_mask [B, 1 or T, S] True = masked
        b, t, d = x.shape
        s, h = mem.shape[1], self.heads

        def split(y, n):
            return y.view(b, n, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x), t), split(self.k(mem), s), split(self.v(mem), s)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)
        scores = scores.masked_fill(key_mask.unsqueeze(1), float("-inf"))
        p = F.dropout(torch.softmax(scores, -1), self.dropout, self.training)
        return self.out((p @ v).transpose(1, 2).reshape(b, t, d))


class FFN(torch.nn.Module):
    def __init__(self, d, f, relu_dropout):
        super().__init__()
        self.fc1, self.fc2, self.relu_dropout = Linear(d, f), Linear(f, d), relu_dropout

    def forward(self, x):
        return self.fc2(F.dropout(torch.relu(self.fc1(x)), self.relu_dropout, self.training))


class Layer(torch.nn.Module):
    def __init__(self, d, heads, f, dropout, cross):
        super().__init__()
        self.self_attn, self.self_attn_norm = Attention(d, heads, dropout), Norm(d)
        if cross:
            self.cross_attn, self.cross_attn_norm = Attention(d, heads, dropout), Norm(d)
        self.ffn, self.ffn_norm = FFN(d, f, 0.0), Norm(d)
        self.dropout = dropout

    def sub(self, x, f, norm):  # post-norm residual block
        return norm(x + F.dropout(f(x), self.dropout, self.training))

    def forward(self, x, self_mask, mem=None, mem_mask=None):
        x = self.sub(x, lambda y: self.self_attn(y, y, self_mask), self.self_attn_norm)
        if mem is not None:
            x = self.sub(x, lambda y: self.cross_attn(y, mem, mem_mask), self.cross_attn_norm)
        return self.sub(x, self.ffn, self.ffn_norm)


class Transformer(torch.nn.Module):
    def __init__(self, d, heads, f, n_enc, n_dec, vocab, dropout=0.1, smoothing=0.1):
        super().__init__()
        self.embed = torch.nn.Module()
        self.embed.weight = torch.nn.Parameter(torch.randn(vocab, d) * d ** -0.5)
        self.encoder = torch.nn.Module()
        self.decoder = torch.nn.Module()
        for i in range(n_enc):
            setattr(self.encoder, f"layer_{i}", Layer(d, heads, f, dropout, False))
        for i in range(n_dec):
            setattr(self.decoder, f"layer_{i}", Layer(d, heads, f, dropout, True))
        self.n_enc, self.n_dec, self.d, self.dropout, self.smoothing = n_enc, n_dec, d, dropout, smoothing
        pos = torch.arange(1024, dtype=torch.float64).unsqueeze(1)
        div = torch.pow(10000.0, torch.arange(0, d, 2, dtype=torch.float64) / d)
        pe = torch.zeros(1024, d, dtype=torch.float64)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos / div), torch.cos(pos / div)
        self.register_buffer("positions", pe.float())

    def embed_tokens(self, ids):
        x = self.embed.weight[ids] * math.sqrt(self.d) + self.positions[: ids.shape[1]]
        return F.dropout(x, self.dropout, self.training)

    def forward(self, src, tgt_in, tgt_out):
        """Summed label-smoothed loss and nll over non-pad target tokens."""
        src_mask = (src == PAD).unsqueeze(1)  # [B, 1, S]
        t = tgt_in.shape[1]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1).unsqueeze(0)
        x = self.embed_tokens(src)
        for i in range(self.n_enc):
            x = getattr(self.encoder, f"layer_{i}")(x, src_mask)
        y = self.embed_tokens(tgt_in)
        for i in range(self.n_dec):
            y = getattr(self.decoder, f"layer_{i}")(y, causal | (tgt_in == PAD).unsqueeze(1), x, src_mask)
        lprobs = F.log_softmax(F.linear(y, self.embed.weight), -1).view(-1, self.embed.weight.shape[0])
        target = tgt_out.reshape(-1)
        keep = target != PAD
        nll = -lprobs.gather(1, target.unsqueeze(1)).squeeze(1)[keep]
        smooth = -lprobs.sum(-1)[keep]
        eps_i = self.smoothing / (lprobs.shape[1] - 1)
        loss = (1 - self.smoothing - eps_i) * nll.sum() + eps_i * smooth.sum()
        return loss, nll.sum()


def pad_batch(src, tgt):
    """Fairseq convention: src + </s>, decoder <s> y → y </s>."""
    ls, lt = max(map(len, src)) + 1, max(map(len, tgt)) + 1
    s = torch.zeros(len(src), ls, dtype=torch.long)
    ti = torch.zeros(len(src), lt, dtype=torch.long)
    to = torch.zeros(len(src), lt, dtype=torch.long)
    for i, (a, b) in enumerate(zip(src, tgt)):
        s[i, : len(a) + 1] = torch.tensor(a + [EOS])
        ti[i, : len(b) + 1] = torch.tensor([BOS] + b)
        to[i, : len(b) + 1] = torch.tensor(b + [EOS])
    return s, ti, to


def synthetic_batch(rng, vocab):
    ls, lt = rng.randint(20, 30), rng.randint(20, 30)
    n = 4096 // lt
    src = [[rng.randrange(4, vocab) for _ in range(ls - rng.randrange(4))] for _ in range(n)]
    tgt = [[rng.randrange(4, vocab) for _ in range(lt - rng.randrange(4))] for _ in range(n)]
    return pad_batch(src, tgt)


def train_flops(d, f, n_enc, n_dec, vocab, src, tgt_out):
    ls = (src != PAD).sum(1).double()
    lt = (tgt_out != PAD).sum(1).double()
    p_src = n_enc * (4 * d * d + 2 * d * f) + n_dec * 2 * d * d
    p_tgt = n_dec * (6 * d * d + 2 * d * f) + d * vocab
    attn = 4 * d * (n_enc * (ls * ls).sum() + n_dec * (lt * lt).sum() + n_dec * (lt * ls).sum())
    return float(6 * (ls.sum() * p_src + lt.sum() * p_tgt) + 3 * attn)


def bench(preset, threads, steps, bf16=False):
    torch.set_num_threads(threads)
    d, h, f, ne, nd, vocab = PRESETS[preset]
    torch.manual_seed(1)
    model = Transformer(d, h, f, ne, nd, vocab)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    rng = random.Random(1)
    batches = [synthetic_batch(rng, vocab) for _ in range(steps + 2)]
    tokens = flops = 0.0
    for i, (src, ti, to) in enumerate(batches):
        if i == 2:
            start = time.perf_counter()
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _ = model(src, ti, to)
        ntok = int((to != PAD).sum())
        (loss / ntok).backward()
        opt.step()
        if i >= 2:
            tokens += ntok
            flops += train_flops(d, f, ne, nd, vocab, src, to)
    s = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{preset}\t{threads}\t{tokens / s:.0f}\t{flops / s / 1e9:.1f}\t{rss:.0f}\t{s / steps:.3f}")


def check(model_path, batch_path, out_path):
    import h5py
    import numpy as np

    with h5py.File(model_path, "r") as f:
        c = f["config"].attrs
        model = Transformer(int(c["d_model"]), int(c["heads"]), int(c["ffn"]), int(c["encoder_layers"]),
                            int(c["decoder_layers"]), int(c["vocab_size"]), 0.0, float(c["label_smoothing"]))
        for name, param in model.named_parameters():
            param.data = torch.from_numpy(f["params/" + name.replace(".", "/")][()])
    with h5py.File(batch_path, "r") as b:
        src, ti, to = (torch.from_numpy(b[k][()].astype(np.int64)) for k in ("src", "tgt_in", "tgt_out"))
    model.train(False)
    loss, nll = model(src, ti, to)
    (loss / int((to != PAD).sum())).backward()
    with h5py.File(out_path, "w") as out:
        out.attrs["loss"], out.attrs["nll"] = float(loss), float(nll)
        for name, param in model.named_parameters():
            out["grads/" + name.replace(".", "/")] = param.grad.numpy()


if __name__ == "__main__":
    if len(sys.argv) in (5, 6) and sys.argv[1] == "bench" and sys.argv[5:] in ([], ["bf16"]):
        bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:] == ["bf16"])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(*sys.argv[2:])
    else:
        sys.exit(__doc__)
