#!/usr/bin/env python3
"""Regenerates the sandbox's speech clips from sentences.tsv.

Needs espeak-ng, sox and lame (Debian: apt-get install espeak-ng sox lame). Writes, next to this
file:
  call-N.mp3        call recordings: 16 kHz mono MP3, 16 kbit/s, two voices
  vm-*.wav          voicemail messages: 8 kHz mono IMA ADPCM WAV (the sandbox serves it as PCM)
  vm-*.mp3          the same messages as 8 kHz mono MP3, 16 kbit/s
  manifest.json     per clip: its length and each phrase's speaker, start, end and text

The output is deterministic for one version of the tools; run it again after editing
sentences.tsv and commit what changed.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# Speaker 1 and speaker 2: two distinct espeak-ng voices.
VOICES = {"1": "en-us", "2": "en-us+f3"}
WORDS_PER_MINUTE = "175"
LEAD = 0.3  # seconds of silence before the first phrase
GAP = 0.4  # between phrases
TAIL = 0.4  # after the last


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def seconds(path):
    out = subprocess.run(["soxi", "-D", path], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def read_sentences():
    clips = {}
    with open(os.path.join(HERE, "sentences.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            clip, speaker, text = line.split("\t")
            if speaker not in VOICES:
                sys.exit(f"{clip}: speaker {speaker} has no voice")
            clips.setdefault(clip, []).append((speaker, text))
    return clips


def build(name, phrases, tmp):
    rate = 16000 if name.startswith("call-") else 8000
    parts, timeline, t = [], [], LEAD
    silence = lambda secs, i: _silence(tmp, f"{name}-gap{i}.wav", secs, rate)
    parts.append(silence(LEAD, "lead"))
    for i, (speaker, text) in enumerate(phrases):
        raw = os.path.join(tmp, f"{name}-{i}-raw.wav")
        run("espeak-ng", "-v", VOICES[speaker], "-s", WORDS_PER_MINUTE, "-w", raw, text)
        pcm = os.path.join(tmp, f"{name}-{i}.wav")
        # Trim espeak's own leading/trailing silence so the timeline is the speech.
        run("sox", "-R", "-D", raw, "-r", str(rate), "-c", "1", "-b", "16", pcm,
            "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse")
        d = seconds(pcm)
        timeline.append({"speaker": speaker, "start": round(t, 2), "end": round(t + d, 2), "text": text})
        parts.append(pcm)
        t += d
        if i + 1 < len(phrases):
            parts.append(silence(GAP, i))
            t += GAP
    parts.append(silence(TAIL, "tail"))
    whole = os.path.join(tmp, f"{name}.wav")
    run("sox", "-R", "-D", *parts, whole)
    out, check = [], {}
    if name.startswith("call-"):
        run("lame", "--quiet", "-t", "-m", "m", "-b", "16", "--resample", "16", whole,
            os.path.join(HERE, f"{name}.mp3"))
        out.append(f"{name}.mp3")
    else:
        wav = os.path.join(HERE, f"{name}.wav")
        run("sox", "-R", "-D", whole, "-e", "ima-adpcm", wav)
        # What sox decodes the ADPCM to: the sandbox's own decoder must give the same samples.
        pcm = os.path.join(tmp, f"{name}-decoded.raw")
        run("sox", "-R", "-D", wav, "-t", "raw", "-e", "signed", "-b", "16", "-L", pcm)
        # sox decodes the last block whole; the file's `fact` chunk says where the audio ends.
        samples = int(subprocess.run(["soxi", "-s", whole], check=True, capture_output=True,
                                     text=True).stdout.strip())
        with open(pcm, "rb") as f:
            decoded = f.read()[: samples * 2]
        check = {"pcm_samples": len(decoded) // 2, "pcm_fnv1a64": f"{fnv1a64(decoded):016x}"}
        run("lame", "--quiet", "-t", "-m", "m", "-b", "16", "--resample", "8", whole,
            os.path.join(HERE, f"{name}.mp3"))
        out += [f"{name}.wav", f"{name}.mp3"]
    return {"name": name, "seconds": round(seconds(whole), 2), "files": out, **check, "phrases": timeline}


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _silence(tmp, file, secs, rate):
    path = os.path.join(tmp, file)
    run("sox", "-R", "-D", "-n", "-r", str(rate), "-c", "1", "-b", "16", path, "trim", "0", f"{secs}")
    return path


def main():
    clips = read_sentences()
    for f in os.listdir(HERE):
        if f.endswith((".mp3", ".wav")):
            os.remove(os.path.join(HERE, f))
    with tempfile.TemporaryDirectory() as tmp:
        manifest = [build(name, phrases, tmp) for name, phrases in clips.items()]
    with open(os.path.join(HERE, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"clips": manifest}, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(HERE, c)) for m in manifest for c in m["files"])
    print(f"{len(manifest)} clips, {total // 1024} KiB of audio")


if __name__ == "__main__":
    main()
