"""A loopback stand-in for the OpenAI API that fails on demand, for fault-injection tests.

``faults`` is a list consumed one per request: "429", "500", "401", "hang", "malformed", "short"
(one embedding too few), or "ok". When it is empty every request is answered properly. Embeddings are
hashed bags of words, so retrieval through them is meaningful and deterministic.

With ``seconds_per_input`` set, it embeds like llama.cpp's server on a slow CPU: one request at a
time, that long per input, finishing a request even after its client has given up on it;
``inputs_worked`` counts every input it computed, abandoned or not. With ``per_token`` set, it
returns one vector per word, as llama.cpp's server does for a model with no pooling layer. A chat
reply echoes the last line of the last message, then ``chat_tail`` (a base model's debris, say).
With ``seconds_per_request`` set, every chat or completion request takes that long and requests
are served concurrently, as vLLM serves them; ``peak_in_flight`` is the most at once.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def bag_of_words(text: str, dim: int = 32) -> list[float]:
    row = [0.0] * dim
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if len(word) > 3:
            row[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    return row


class StandIn:
    def __init__(self):
        self.faults: list[str] = []
        self.requests: list[dict] = []
        self.hang_seconds = 2.0
        self.seconds_per_input = 0.0
        self.inputs_worked = 0
        self.per_token = False
        self.chat_tail = "\nsecond line"
        self.seconds_per_request = 0.0
        # Requests wait until this many are in flight at once (then none waits again; 10 s at most): a
        # client's concurrency shows without depending on how fast a loaded machine starts its threads.
        self.hold_until = 0
        self.in_flight = self.peak_in_flight = 0
        busy, counting = threading.Lock(), threading.Condition()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                standin.requests.append({"path": self.path, "body": body,
                                         "authorization": self.headers.get("Authorization")})
                fault = standin.faults.pop(0) if standin.faults else "ok"
                if fault == "hang":  # an Event, not time.sleep: tests patch the harness's sleeping
                    threading.Event().wait(standin.hang_seconds)
                    return
                if fault == "401":
                    return self._send(401, {"error": {"message": "bad key"}})
                if fault == "429":
                    return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.2"})
                if fault == "500":
                    return self._send(500, {"error": {"message": "boom"}})
                if fault == "malformed":
                    return self._send(200, None, raw=b'{"data": [ not json')
                if standin.seconds_per_input and self.path.endswith("/embeddings"):
                    with busy:
                        threading.Event().wait(standin.seconds_per_input * len(body["input"]))
                        standin.inputs_worked += len(body["input"])
                if not self.path.endswith("/embeddings"):
                    with counting:
                        standin.in_flight += 1
                        standin.peak_in_flight = max(standin.peak_in_flight, standin.in_flight)
                        if standin.hold_until:
                            counting.notify_all()
                            if counting.wait_for(lambda: standin.in_flight >= standin.hold_until, timeout=10):
                                standin.hold_until = 0  # reached: the rest go through
                    if standin.seconds_per_request:
                        threading.Event().wait(standin.seconds_per_request)
                    with counting:
                        standin.in_flight -= 1
                try:
                    self._send(200, standin.reply(self.path, body, short=fault == "short"))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def _send(self, status, payload, headers=None, raw=None):
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, path: str, body: dict, short: bool) -> dict:
        if path.endswith("/embeddings"):
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            embed = (lambda t: [bag_of_words(w) for w in t.split()]) if self.per_token else bag_of_words
            data = [{"object": "embedding", "index": i, "embedding": embed(t)} for i, t in enumerate(inputs)]
            return {"object": "list", "data": data[:-1] if short else data, "model": body["model"],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1}}
        if path.endswith("/chat/completions"):
            last = body["messages"][-1]["content"]
            message = {"role": "assistant", "content": f"echo: {last.splitlines()[-1]}{self.chat_tail}"}
            return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
        return {"id": "x", "object": "text_completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "text": " completed", "finish_reason": "stop", "logprobs": None}]}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
