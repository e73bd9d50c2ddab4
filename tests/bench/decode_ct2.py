#!/usr/bin/python3
"""A tfm model in CTranslate2, for the decoding benchmark: the same network
(post-norm or pre-norm, ReLU, tfm's sinusoidal positions, one embedding table
for source, target and the output projection, which has no bias), the same
vocabulary, the same batches as tfm-decode. CTranslate2 is not part of tfm:
build it as tests/bench/README.md says and put its Python module on
PYTHONPATH, its library on LD_LIBRARY_PATH.

  decode_ct2.py convert MODEL.h5 OUT_DIR
      writes the model in CTranslate2's format (float32) through its spec API
  decode_ct2.py decode CT2_DIR BEAM THREADS BATCH COMPUTE_TYPE ALPHA [LENGTH] < src > hyp
      one line per input, BATCH sentences at a time (sorted by length, as
      tfm-decode --batch-size); <pad> and <s> never produced, </s> not before
      one token, as tfm-decode. LENGTH N: every hypothesis exactly N tokens
      (as tfm-decode --min-len N --max-len-a 0 --max-len-b N); LENGTH <=N: at
      most N (as --max-len-a 0 --max-len-b N); without it, at most the
      batch's longest source + 50 (tfm-decode: each sentence's own + 50).
      ALPHA: CTranslate2's length penalty, score / length^ALPHA (tfm's is
      GNMT's; both are 1 at 0).
      stderr: "sentences tokens seconds", the seconds from before the model is
      loaded (int8 quantised) to the last hypothesis.
  decode_ct2.py types
      the compute types CTranslate2 supports on this CPU, one a line
"""
import os
import shutil
import sys
import tempfile
import time

import h5py
import numpy as np

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]


def sinusoid_positions(length, d):
    """tfm's table (libtfm sinusoid_positions): sin and cos interleaved, from position 0.
    CTranslate2's own encoder puts the sines before the cosines and starts at 1."""
    p = np.arange(length, dtype=np.float64)[:, None]
    i = np.arange(d // 2, dtype=np.float64)[None, :]
    angle = p / np.power(10000.0, 2.0 * i / d)
    table = np.zeros((length, d), dtype=np.float64)
    table[:, 0::2], table[:, 1::2] = np.sin(angle), np.cos(angle)
    return table.astype(np.float32)


def read_tfm_model(path):
    with h5py.File(path, "r") as f:
        for group in ("config", "params", "vocab"):
            if group not in f:
                sys.exit(f"decode_ct2.py: {path}: no /{group}: not a tfm model file")
        config = {k: v.item() for k, v in f["config"].attrs.items()}
        params = {}
        f["params"].visititems(lambda name, obj: params.__setitem__(name, obj[()].astype(np.float32))
                               if isinstance(obj, h5py.Dataset) else None)
        raw = f["vocab"][()]
        if raw.dtype == np.uint8:  # tfm's own files: the strings one after another, each ending in NUL
            raw = bytes(raw).split(b"\0")[:-1]
        vocab = [t.decode() if isinstance(t, bytes) else t for t in raw]
    if vocab[:4] != SPECIALS or len(vocab) != config["vocab_size"]:
        sys.exit(f"decode_ct2.py: {path}: /vocab does not start with {' '.join(SPECIALS)} "
                 f"or does not hold vocab_size tokens")
    return config, params, vocab


def convert(model_path, out_dir):
    from ctranslate2.specs import common_spec, transformer_spec

    config, params, vocab = read_tfm_model(model_path)
    pre_norm = bool(config["pre_norm"])
    spec = transformer_spec.TransformerSpec.from_config(
        (config["encoder_layers"], config["decoder_layers"]), config["heads"],
        pre_norm=pre_norm, activation=common_spec.Activation.RELU)

    def linear(target, *names):  # several tfm linears stacked into one CTranslate2 matrix
        target.weight = np.concatenate([params[n + "/weight"] for n in names])
        target.bias = np.concatenate([params[n + "/bias"] for n in names])

    def norm(target, name):
        target.gamma, target.beta = params[name + "/weight"], params[name + "/bias"]

    def layer(target, prefix, cross):
        attn = prefix + "/self_attn"
        linear(target.self_attention.linear[0], attn + "/q", attn + "/k", attn + "/v")
        linear(target.self_attention.linear[1], attn + "/out")
        norm(target.self_attention.layer_norm, prefix + "/self_attn_norm")
        if cross:
            attn = prefix + "/cross_attn"
            linear(target.attention.linear[0], attn + "/q")
            linear(target.attention.linear[1], attn + "/k", attn + "/v")
            linear(target.attention.linear[2], attn + "/out")
            norm(target.attention.layer_norm, prefix + "/cross_attn_norm")
        linear(target.ffn.linear_0, prefix + "/ffn/fc1")
        linear(target.ffn.linear_1, prefix + "/ffn/fc2")
        norm(target.ffn.layer_norm, prefix + "/ffn_norm")

    for i, target in enumerate(spec.encoder.layer):
        layer(target, f"encoder/layer_{i}", False)
    for i, target in enumerate(spec.decoder.layer):
        layer(target, f"decoder/layer_{i}", True)
    if pre_norm:
        norm(spec.encoder.layer_norm, "encoder/final_norm")
        norm(spec.decoder.layer_norm, "decoder/final_norm")
    # One array for all three: optimize() stores it once, as tfm does.
    embed = params["embed/weight"]
    spec.encoder.embeddings[0].weight = embed
    spec.decoder.embeddings.weight = embed
    spec.decoder.projection.weight = embed
    positions = sinusoid_positions(config["max_positions"], config["d_model"])
    spec.encoder.position_encodings.encodings = positions
    spec.decoder.position_encodings.encodings = positions
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.config.add_source_eos = True  # tfm ends every source with </s>
    spec.config.layer_norm_epsilon = 1e-5
    spec.validate()
    spec.optimize(quantization=None)
    # Saved beside OUT_DIR, then renamed: a failed run leaves no model that looks whole.
    out_dir = os.path.abspath(out_dir)
    staging = tempfile.mkdtemp(prefix=os.path.basename(out_dir) + ".", dir=os.path.dirname(out_dir))
    try:
        os.chmod(staging, 0o755)
        spec.save(staging)
        if os.path.isdir(out_dir):
            shutil.rmtree(out_dir)
        os.rename(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def length_sorted_batches(sentences, batch_size):
    """tfm-decode's batches: non-empty lines sorted by length (ties in input order)."""
    order = sorted((i for i, s in enumerate(sentences) if s), key=lambda i: len(sentences[i]))
    return [order[b: b + batch_size] for b in range(0, len(order), batch_size)]


def decode(model_dir, beam, threads, batch_size, compute_type, alpha, length_arg=None):
    import ctranslate2

    at_most = length_arg is not None and length_arg.startswith("<=")
    length = int(length_arg[2:] if at_most else length_arg) if length_arg is not None else None
    sentences = [line.split() for line in sys.stdin.read().splitlines()]
    batches = length_sorted_batches(sentences, batch_size)
    out, tokens = [""] * len(sentences), 0
    start = time.perf_counter()
    translator = ctranslate2.Translator(model_dir, device="cpu", compute_type=compute_type,
                                        inter_threads=1, intra_threads=threads)
    for batch in batches:
        source = [sentences[i] for i in batch]
        if length is not None:  # +1: tfm's limit leaves a step for </s>
            min_len, max_len = (1 if at_most else length + 1), length + 1
        else:
            min_len, max_len = 1, max(map(len, source)) + 50 + 1
        results = translator.translate_batch(
            source, beam_size=beam, length_penalty=alpha, max_batch_size=0,
            min_decoding_length=min_len, max_decoding_length=max_len,
            suppress_sequences=[["<pad>"], ["<s>"]], return_scores=False)
        for i, result in zip(batch, results):
            hyp = result.hypotheses[0]
            # At the limit CTranslate2 ends with a word where tfm ends with </s>.
            at_limit = len(hyp) == max_len
            out[i] = " ".join(hyp[:-1] if at_limit else hyp)
            tokens += len(hyp) if at_limit else len(hyp) + 1
    seconds = time.perf_counter() - start
    sys.stdout.write("".join(o + "\n" for o in out))
    print(f"{len(sentences)} {tokens} {seconds:.3f}", file=sys.stderr)


def types():
    import ctranslate2

    print("\n".join(sorted(ctranslate2.get_supported_compute_types("cpu"))))


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "convert":
        convert(args[1], args[2])
    elif len(args) in (7, 8) and args[0] == "decode":
        decode(args[1], int(args[2]), int(args[3]), int(args[4]), args[5], float(args[6]),
               args[7] if len(args) == 8 else None)
    elif args == ["types"]:
        types()
    else:
        sys.exit(__doc__)
