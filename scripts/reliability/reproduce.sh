#!/usr/bin/env bash
# Runs the reproductions of issue #22 against an `auffusion` binary and prints one table row per
# case: how the run ended (exit code or signal), its wall time, its peak memory and the first
# line it printed. Each run is capped at 60 s and an 8 GiB address space, as in the issue.
#
#   scripts/reliability/reproduce.sh .build/release/auffusion > table.md
#
# Needs python3 (byte surgery on the files) and, for the audio cases, a binary that can write
# Ogg and FLAC (every build of this project).
set -u
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MINI="$ROOT/Sources/Pipeline/Resources/auffusion-mini"
WORK=$(mktemp -d /tmp/auffusion-repro.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# A copy of the embedded model (weights linked) whose FILE has KEY set to the JSON value VALUE.
model() {  # model NAME FILE KEY VALUE
  mkdir -p "$1"
  for part in "$MINI"/*; do
    if [ -d "$part" ]; then mkdir -p "$1/$(basename "$part")"; ln -sf "$part"/* "$1/$(basename "$part")/"; else ln -sf "$part" "$1/"; fi
  done
  [ -n "$2" ] || return 0
  rm "$1/$2"
  python3 - "$MINI/$2" "$1/$2" "$3" "$4" <<'PY'
import json, sys
source, target, key, value = sys.argv[1:]
config = json.load(open(source))
config[key] = json.loads(value)
json.dump(config, open(target, "w"))
PY
}

row() {  # row LABEL command…
  local label=$1; shift
  local start end status first rss
  start=$(date +%s.%N)
  ( ulimit -v $((8 * 1024 * 1024)); exec /usr/bin/time -f "%M" -o time.txt timeout -s KILL 60 "$@" ) > out.txt 2>&1
  status=$?
  end=$(date +%s.%N)
  rss=$(tail -1 time.txt 2>/dev/null | grep -E '^[0-9]+$' || echo "?")
  first=$( (grep -m1 '^error:' out.txt || grep -v -E '^\s*$|Command (terminated|exited)' out.txt | head -1) | sed "s#$WORK/##g" | cut -c1-160)
  local how="exit $status"
  if [ "$status" -eq 137 ]; then how="killed at 60 s (hang)"; rss="–"; elif [ "$status" -gt 128 ]; then how="signal $((status - 128))"; fi
  [ "$rss" = "–" ] || [ "$rss" = "?" ] || rss="$((rss / 1024)) MB"
  printf "| %s | %s | %.1f s | %s | %s |\n" "$label" "$how" "$(echo "$end - $start" | bc)" "$rss" "$first"
}

# Audio: a 3 s tone written as Ogg and FLAC by the binary under test (via vocode of a mel).
python3 - <<'PY'
import struct, math
rate, frames = 16000, 48000
samples = [int(12000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(frames)]
data = struct.pack("<%dh" % frames, *samples)
header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", len(data))
open("tone.wav", "wb").write(header + data)
PY
model m "" "" ""
"$BIN" spectrogram tone.wav -o tone.png --mel-npy tone.npy > /dev/null 2>&1
"$BIN" vocode tone.npy -o tone.ogg > /dev/null 2>&1
"$BIN" vocode tone.npy -o tone.flac > /dev/null 2>&1
python3 - <<'PY'
data = open("tone.ogg", "rb").read()
open("truncated.ogg", "wb").write(data[:-35])
flac = bytearray(open("tone.flac", "rb").read())
flac[21] &= 0xF0
flac[22:26] = b"\0\0\0\0"
open("unknown.flac", "wb").write(bytes(flac))
word = "a" * 100_000  # a 1 MB argument passes the kernel's 128 kB limit per argument
open("word.txt", "w").write(word)
import struct
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 8, 32), }"
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
open("nan.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack("<f", float("nan")) * 1024)
PY
mkfifo fifo.wav

echo "| reproduction | ends | time | peak memory | first line |"
echo "|---|---|---|---|---|"
row "Ogg Vorbis minus its last 35 bytes" "$BIN" spectrogram truncated.ogg -o o.png
row "FLAC with total_samples = 0" "$BIN" spectrogram unknown.flac -o f.png
model g0 unet/config.json norm_num_groups 0
row "unet norm_num_groups: 0" "$BIN" generate "a beep" --model g0 -o g0.wav --steps 2
model h0 unet/config.json attention_head_dim 0
row "unet attention_head_dim: 0" "$BIN" generate "a beep" --model h0 -o h0.wav --steps 2
model lpb unet/config.json layers_per_block -1
row "unet layers_per_block: -1" "$BIN" generate "a beep" --model lpb -o lpb.wav --steps 2
model big unet/config.json block_out_channels "[65536, 65536, 65536]"
row "unet block_out_channels: 65536 each" "$BIN" generate "a beep" --model big -o big.wav --steps 2
model nfft vocoder/config.json n_fft 20000048
row "vocoder n_fft: 20000048" "$BIN" generate "a beep" --model nfft -o nfft.wav --steps 2
model sched "" "" ""
rm sched/scheduler/scheduler_config.json
printf '{"":"",\xfc _dif' > sched/scheduler/scheduler_config.json
row "scheduler_config.json {\"\":\"\",\\xfc _dif" "$BIN" generate "a beep" --model sched -o sched.wav --steps 2
row "a prompt with one 100 000-character word" "$BIN" generate "$(cat word.txt)" -o word.wav --steps 2
row "a FIFO with no writer as input" "$BIN" spectrogram fifo.wav -o fifo.png
model dup "" "" ""
rm dup/vae/diffusion_pytorch_model.safetensors
python3 - "$MINI/vae/diffusion_pytorch_model.safetensors" dup/vae/diffusion_pytorch_model.safetensors <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
length = struct.unpack("<Q", data[:8])[0]
header = data[8:8 + length].decode()
name, entry = next((k, v) for k, v in json.loads(header).items() if k != "__metadata__")
doubled = "{" + json.dumps(name) + ":" + json.dumps(entry) + "," + header[1:]
open(sys.argv[2], "wb").write(struct.pack("<Q", len(doubled.encode())) + doubled.encode() + data[8 + length:])
PY
row "safetensors header naming a tensor twice" "$BIN" generate "a beep" --model dup -o dup.wav --steps 2
row "--noise full of NaN" "$BIN" generate "a beep" --noise nan.npy -o nan.wav --steps 2

# Edit plans and batch files (the readers of `edit PLAN.json` and `--batch FILE.jsonl`).
PASS='{"prompt": "a cat", "start": {"from": "noise"}, "steps": 1}'
echo "{\"output\": \"a.wav\", \"passes\": [$PASS], \"output\": \"b.wav\"}" > twice.json
printf '{"output": "a.wav", "passes": [%s], // a comment\n}' "$PASS" > json5.json
python3 -c 'print("[" * 100000 + "]" * 100000)' > deep.json
mkfifo fifo.json fifo.jsonl
python3 - "$PASS" <<'PY'
import sys
word = "a" * 100000
open("word.json", "w").write('{"output": "w.wav", "passes": [{"prompt": "%s", "start": {"from": "noise"}, "steps": 1, '
                             '"attention": {"source": "a", "alignment": "none", "blend": ["a"]}}]}' % word)
open("huge.jsonl", "w").write('{"output": "%s", "passes": [%s]}\n' % ("x" * 60_000_000, sys.argv[1]))
PY
echo '{"prompt": "a dog", "prompt": "a cat", "output": "x.wav"}' > twice.jsonl
row "edit plan naming \"output\" twice" "$BIN" edit twice.json
row "edit plan with a JSON5 comment" "$BIN" edit json5.json
row "edit plan nested 100 000 deep" "$BIN" edit deep.json
row "a FIFO with no writer as edit plan" "$BIN" edit fifo.json
row "edit plan with a 100 000-character word and a blend" "$BIN" edit word.json
row "batch line naming \"prompt\" twice" "$BIN" generate --batch twice.jsonl --output-dir b1 --steps 1 --duration 0.3
row "a FIFO with no writer as batch file" "$BIN" generate --batch fifo.jsonl --output-dir b2
row "edit batch with one 60 MB line" "$BIN" edit --batch huge.jsonl --output-dir b3
