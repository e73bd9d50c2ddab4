#!/usr/bin/python3
"""Beam search in PyTorch over the tfm Transformer (train_torch.py's model),
for the decoding benchmark: the same model file, the same search as
tfm-decode (fairseq's, GNMT length penalty, 2·beam candidates, </s> among the
first beam finishes a hypothesis, finished sentences leave the batch) with
incremental decoding (a key/value cache per decoder layer, cross-attention
keys/values once per sentence).

  decode_torch.py make OUT.h5 PRESET VOCAB.txt   a random model file for tfm-decode
  decode_torch.py decode MODEL.h5 BEAM THREADS BATCH < src > hyp
      one line per input, BATCH sentences at a time (sorted by length, as
      tfm-decode --batch-size); stderr: "sentences tokens seconds"
"""
import math
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F

from train_torch import PAD, BOS, EOS, Transformer

SIZES = {"small": (256, 4, 1024, 3, 3), "base": (512, 8, 2048, 6, 6)}
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]


def make(out, preset, vocab_path):
    tokens = SPECIALS + [l.split(" ")[0] for l in open(vocab_path, encoding="utf-8") if l.strip()]
    d, h, f, ne, nd = SIZES[preset]
    torch.manual_seed(1)
    model = Transformer(d, h, f, ne, nd, len(tokens))
    with h5py.File(out, "w") as o:
        o.attrs["format"], o.attrs["format_version"] = "tfm-model", np.int64(1)
        c = o.create_group("config")
        for k, v in dict(vocab_size=len(tokens), d_model=d, heads=h, ffn=f, encoder_layers=ne,
                         decoder_layers=nd, pre_norm=0, max_positions=1024).items():
            c.attrs[k] = np.int64(v)
        for k in ("dropout", "attention_dropout", "relu_dropout", "label_smoothing"):
            c.attrs[k] = np.float64(0.1)
        o.create_dataset("vocab", data=tokens, dtype=h5py.string_dtype())
        for name, p in model.named_parameters():
            o["params/" + name.replace(".", "/")] = p.detach().numpy()


def load(path):
    with h5py.File(path, "r") as f:
        c = f["config"].attrs
        model = Transformer(int(c["d_model"]), int(c["heads"]), int(c["ffn"]), int(c["encoder_layers"]),
                            int(c["decoder_layers"]), int(c["vocab_size"]), 0.0)
        for name, param in model.named_parameters():
            param.data = torch.from_numpy(f["params/" + name.replace(".", "/")][()])
        stored = f["vocab"][()]
        if stored.dtype == np.uint8:  # tfm's tokens, each ended by a NUL byte
            vocab = bytes(stored).decode().split("\0")[:-1]
        else:  # variable-length strings (earlier tfm versions, this script's own files)
            vocab = [t.decode() if isinstance(t, bytes) else t for t in stored]
    return model.eval(), vocab


def heads(x, h):  # [N, T, d] → [N, h, T, dh]
    n, t, d = x.shape
    return x.view(n, t, h, d // h).transpose(1, 2)


def attend(att, q, k, v, mask=None):
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s.masked_fill(mask, float("-inf"))
    c = torch.softmax(s, -1) @ v
    n, h, t, dh = c.shape
    return att.out(c.transpose(1, 2).reshape(n, t, h * dh))


class State:
    """Encoder output, cross K/V per layer and the self-attention caches."""

    def __init__(self, model, src):
        self.model, self.h = model, model.encoder.layer_0.self_attn.heads
        mask = (src == PAD).unsqueeze(1)
        x = model.embed_tokens(src)
        for i in range(model.n_enc):
            x = getattr(model.encoder, f"layer_{i}")(x, mask)
        self.layers = [getattr(model.decoder, f"layer_{i}") for i in range(model.n_dec)]
        self.cross = [(heads(l.cross_attn.k(x), self.h), heads(l.cross_attn.v(x), self.h)) for l in self.layers]
        self.src_mask = mask.unsqueeze(1)  # [B, 1, 1, S]
        self.cache = [None] * len(self.layers)
        self.sent = torch.arange(src.shape[0])

    def select(self, rows):
        self.sent = self.sent[rows]
        self.cache = [(k[rows], v[rows]) for k, v in self.cache]

    def step(self, tokens, t):
        m = self.model
        x = (m.embed.weight[tokens] * math.sqrt(m.d) + m.positions[t]).unsqueeze(1)
        for i, l in enumerate(self.layers):
            a = l.self_attn
            k, v = heads(a.k(x), self.h), heads(a.v(x), self.h)
            if self.cache[i] is not None:
                k, v = torch.cat([self.cache[i][0], k], 2), torch.cat([self.cache[i][1], v], 2)
            self.cache[i] = (k, v)
            x = l.self_attn_norm(x + attend(a, heads(a.q(x), self.h), k, v))
            ck, cv = self.cross[i]
            q = heads(l.cross_attn.q(x), self.h)
            x = l.cross_attn_norm(x + attend(l.cross_attn, q, ck[self.sent], cv[self.sent], self.src_mask[self.sent]))
            x = l.ffn_norm(x + l.ffn(x))
        return F.log_softmax(F.linear(x[:, 0], m.embed.weight), -1)


def beam_search(model, sources, beam, alpha=0.6):
    src = torch.zeros(len(sources), max(map(len, sources)) + 1, dtype=torch.long)
    for i, s in enumerate(sources):
        src[i, : len(s) + 1] = torch.tensor(s + [EOS])
    max_len = [min(len(s) + 50, 1023) for s in sources]
    state = State(model, src)
    live = [(i, 0.0, []) for i in range(len(sources))]  # sentence, log-prob, tokens
    finished = [[] for _ in sources]
    tokens = torch.full((len(sources),), BOS)
    for t in range(max(max_len) + 1):
        lp = state.step(tokens, t)
        lp[:, PAD] = lp[:, BOS] = float("-inf")
        if t < 1:
            lp[:, EOS] = float("-inf")
        ends = torch.tensor([t >= max_len[s] for s, _, _ in live])
        if ends.any():
            eos = lp[ends, EOS].clone()
            lp[ends] = float("-inf")
            lp[ends, EOS] = eos
        cand = (torch.tensor([p for _, p, _ in live]).unsqueeze(1) + lp)
        top_s, top_j = cand.topk(min(2 * beam, cand.shape[1]), 1)
        top_s, top_j = top_s.tolist(), top_j.tolist()
        nxt, rows, i = [], [], 0
        while i < len(live):
            j = i
            while j < len(live) and live[j][0] == live[i][0]:
                j += 1
            c = sorted(((top_s[r][k], r, top_j[r][k]) for r in range(i, j) for k in range(len(top_s[r]))),
                       key=lambda e: (-e[0], e[1], e[2]))[: 2 * beam]
            s, alive, fin = live[i][0], 0, finished[live[i][0]]
            for rank, (score, r, w) in enumerate(c):
                if score == float("-inf"):
                    break
                if w == EOS:
                    if rank < beam and len(fin) < beam:
                        fin.append((score / ((5 + len(live[r][2]) + 1) / 6) ** alpha, live[r][2]))
                elif alive < beam:
                    nxt.append((s, score, live[r][2] + [w]))
                    rows.append(r)
                    alive += 1
            best = max(fin)[0] if fin else float("-inf")
            bound = max((e[1] for e in nxt[len(nxt) - alive:]), default=float("-inf"))
            bound /= ((5 + max_len[s] + 1) / 6) ** alpha
            if alive == 0 or len(fin) >= beam or (fin and bound < best):
                del nxt[len(nxt) - alive:], rows[len(rows) - alive:]
            i = j
        if not nxt:
            break
        live = nxt
        state.select(torch.tensor(rows))
        tokens = torch.tensor([y[-1] for _, _, y in live])
    return [max(f, key=lambda e: e[0])[1] for f in finished]


def decode(model_path, beam, threads, batch_size):
    torch.set_num_threads(threads)
    model, vocab = load(model_path)
    ids = {w: i for i, w in enumerate(vocab)}
    lines = [l.split() for l in sys.stdin.read().splitlines()]
    order = sorted(range(len(lines)), key=lambda i: len(lines[i]))
    out, ntok, start = [None] * len(lines), 0, time.perf_counter()
    with torch.no_grad():
        for b in range(0, len(order), batch_size):
            batch = order[b: b + batch_size]
            hyps = beam_search(model, [[ids.get(w, 1) for w in lines[i]] for i in batch], beam)
            for i, h in zip(batch, hyps):
                out[i] = " ".join(vocab[w] for w in h)
                ntok += len(h) + 1
    seconds = time.perf_counter() - start
    sys.stdout.write("".join(o + "\n" for o in out))
    print(f"{len(lines)} {ntok} {seconds:.3f}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "make":
        make(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "decode":
        decode(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
