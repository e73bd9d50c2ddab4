#!/usr/bin/env bash
# tfm-bleu through real pipes: output forms, several references and metrics,
# and the error paths (exit 1 for bad input, 2 for misuse).
source "$(dirname "$0")/../lib.sh"
bleu=$BIN/tfm-bleu
cd "$WORK" || exit 1
printf 'the cat sat on the mat\nhello world\n' >ref
printf 'the cat sat on a mat\nhello world\n' >hyp
printf 'a cat sat on the mat\nhello there world\n' >ref2
version=$("$bleu" --version | awk '{print $NF}')

expect_exit 0 "$bleu" ref -i hyp
grep -q '"name": "BLEU"' out && grep -q "\"signature\": \"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:$version\"" out \
  || fail "JSON output: $(cat out)"
"$bleu" ref <hyp >stdin.out 2>&1 || fail "hypotheses on stdin"
cmp -s out stdin.out || fail "stdin and -i differ"
expect_exit 0 "$bleu" ref -i hyp -b -w 2
[ "$(cat out)" = "55.84" ] || fail "-b prints the score alone (sacrebleu: 55.84), got '$(cat out)'"
expect_exit 0 "$bleu" ref ref2 -i hyp -f text
grep -q '^BLEU|nrefs:2|' out || fail "two references, text: $(cat out)"
expect_exit 0 "$bleu" -r ref ref2 -i hyp -f text
grep -q '^BLEU|nrefs:2|' out || fail "--refs"
expect_exit 0 "$bleu" ref -i hyp -m bleu chrf ter -f text -sh
[ "$(wc -l <out)" = 3 ] && grep -q 'chrF2|#:1|' out || fail "three metrics: $(cat out)"
expect_exit 0 "$bleu" ref -i hyp -sl -tok intl
[ "$(wc -l <out)" = 2 ] && grep -q 'eff:yes|tok:intl' out || fail "sentence level: $(cat out)"
expect_exit 0 "$bleu" ref -i hyp -l en-zh
grep -q '"tok": "zh"' out || fail "-l en-zh picks the zh tokenizer: $(cat out)"
expect_exit 2 "$bleu" ref -i hyp -l en-ja
SACREBLEU_FORMAT=text expect_exit 0 "$bleu" ref -i hyp
grep -q '^BLEU|' out || fail "SACREBLEU_FORMAT=text"

# The tokenized-input warning, and its silencers.
for i in $(seq 100); do echo "a sentence ."; done >tok
expect_exit 0 "$bleu" tok -i tok
grep -q 'forgot to detokenize' err || fail "no tokenized-input warning"
expect_exit 0 "$bleu" tok -i tok --force
[ ! -s err ] || fail "--force still warns"
expect_exit 0 "$bleu" tok -i tok -q
[ ! -s err ] || fail "-q still warns"

# Bad input: exit 1 with file (and line) named.
printf 'one line\n' >short
expect_exit 1 "$bleu" ref -i short
grep -q 'short.*1 lines.*ref.*2' err || fail "line-count message: $(cat err)"
expect_exit 1 "$bleu" ref ref2 short -i hyp
grep -q 'hyp.*2 lines.*short.*1' err || fail "line-count message for a reference: $(cat err)"
printf 'fine\nbad \377 byte\n' >badutf
expect_exit 1 "$bleu" ref -i badutf
grep -q 'badutf:2:' err || fail "invalid UTF-8 message: $(cat err)"
expect_exit 1 "$bleu" missing -i hyp
grep -q 'missing' err || fail "missing reference message: $(cat err)"
expect_exit 1 "$bleu" ref -i nothere
[ ! -s out ] || fail "output despite a missing input"
: >empty
expect_exit 1 "$bleu" empty -i empty
expect_exit 1 "$bleu" ref <empty

# Paired tests: sacrebleu 2.6.0's output on the same five lines.
printf 'the cat sat on the mat\nhello world\na b c d e\nthe dog barked loudly today\nit is raining again\n' >pref
printf 'the cat sat on a mat\nhello world\na b c e\nthe dog barked today\nit rains again\n' >base
printf 'a cat sat on the mat\nhello there world\na b c d e\nthe dog barked loudly\nit is raining\n' >sys
cat >expected.bs <<'JSON'
[
    {
        "system": "Baseline: base",
        "BLEU": {
            "score": 39.42787530594461,
            "p_value": null,
            "mean": 40.1039343593119,
            "ci": 11.792068092131249
        }
    },
    {
        "system": "sys",
        "BLEU": {
            "score": 80.2279830195378,
            "p_value": 0.009900990099009901,
            "mean": 77.70947776639832,
            "ci": 17.239974296414385
        }
    }
]
JSON
expect_exit 0 "$bleu" pref -i base sys base --paired-bs -pbsn 100
expect_same expected.bs out "paired bootstrap"
expect_exit 0 "$bleu" pref -i base sys -par -parn 100 -m bleu chrf
grep -q '"p_value": 0.09900990099009901' out && grep -q '"p_value": 0.26732673267326734' out \
  || fail "paired randomization p-values: $(cat out)"
SACREBLEU_SEED=7 expect_exit 0 "$bleu" pref -i base sys --paired-bs -pbsn 100
cmp -s expected.bs out && fail "SACREBLEU_SEED ignored"
SACREBLEU_SEED=x expect_exit 2 "$bleu" pref -i base sys --paired-bs
paste base sys >tabs
expect_exit 0 "$bleu" pref -m bleu ter <tabs
grep -q '"system": "System 2"' out || fail "tab-separated systems on stdin: $(cat out)"
expect_exit 0 "$bleu" pref -i sys -ci -cin 100 -f text
# sacrebleu: BLEU|nrefs:1|bs:100|seed:12345|... = 80.2 (μ = 77.7 ± 17.2) ...
grep -q "^BLEU|nrefs:1|bs:100|seed:12345|case:mixed|eff:no|tok:13a|smooth:exp|version:$version = 80.2 (μ = 77.7 ± 17.2) " out \
  || fail "--confidence: $(cat out)"
expect_exit 2 "$bleu" pref -i base sys -ci
expect_exit 2 "$bleu" pref -i base --paired-bs
expect_exit 0 "$bleu" pref -i base sys --paired-bs -pbsn 100 -f text
grep -q '^│ Baseline: base │ 39.4 (40.1 ± 11.8)  │$' out && grep -q '^│                │    (p = 0.0099)\*    │$' out \
  || fail "paired bootstrap table: $(cat out)"
expect_exit 1 "$bleu" pref -i base sys sys

# Misuse: exit 2.
expect_exit 2 "$bleu" ref -i hyp -tok moses
expect_exit 2 "$bleu" ref -i hyp -s lin
expect_exit 2 "$bleu" ref -i hyp -m meteor
expect_exit 2 "$bleu" ref -i hyp -f xml
expect_exit 2 "$bleu" -i hyp
expect_exit 2 "$bleu" ref -i hyp --no-such-option
expect_exit 2 "$bleu" ref -i hyp -m bleu chrf -sl
expect_exit 0 "$bleu" --help
grep -q -- '--smooth-method' out || fail "--help"
finish
