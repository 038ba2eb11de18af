"""Calls to OpenAI-compatible servers (OpenAI, vLLM, llama.cpp) through the official client.

Retries are ours, not the client's, so they are bounded and visible: 429, 5xx, timeouts,
dropped connections and malformed replies are retried with exponential backoff, and a
Retry-After pauses every request to that endpoint (requests run concurrently); after the last try the run stops with one line saying what failed, and the endpoint
remembers it: every later call through it fails at once with that line, so a server that is down
costs one retry cycle per run, not one per test. The API key is read from the environment when a
request is made and never stored in an identity, a cache key, a message or a report.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from harness.core.errors import HarnessError, Unavailable

T = TypeVar("T")
DEFAULT_URL = "https://api.openai.com/v1"


class Malformed(Exception):
    """A reply that arrived but cannot be used (bad JSON, wrong number of items)."""


class Split(Exception):
    """A request for many items failed in a way a smaller one may not: send its items in smaller requests."""


@dataclass
class Endpoint:
    base_url: str
    tries: int = 5
    timeout: float = 60.0
    backoff: float = 1.0  # seconds before the second try; doubles each time
    gave_up: str | None = field(default=None, compare=False)  # why the last call failed every try
    paused_until: float = field(default=0.0, compare=False)  # a 429's Retry-After holds every request

    def hold(self, waited_for: float) -> float:
        """Wait out a rate limit that any request of this run was told about, unless this request
        already waited for it; the limit it waited for."""
        until = self.paused_until
        wait = until - time.monotonic()
        if until > waited_for and wait > 0:
            _pause(wait)
        return until

    @classmethod
    def from_env(cls, base_url: str | None = None, **kw) -> "Endpoint":
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url and not os.environ.get("OPENAI_API_KEY"):
            raise Unavailable("set OPENAI_API_KEY to use OpenAI, or OPENAI_BASE_URL for a compatible server "
                              "(vLLM, llama.cpp's server)")
        return cls((url or DEFAULT_URL).rstrip("/"), **kw)

    def client(self):
        from openai import OpenAI

        return OpenAI(api_key=os.environ.get("OPENAI_API_KEY") or "not-needed", base_url=self.base_url,
                      max_retries=0, timeout=self.timeout)


def _retry_after(err) -> float | None:
    response = getattr(err, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _describe(err: Exception) -> str:
    status = getattr(err, "status_code", None)
    kind = type(err).__name__
    return f"HTTP {status} ({kind})" if status else f"{kind}: {str(err)[:120]}"


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def call(what: str, endpoint: Endpoint, request: Callable[[], T], *, splittable: bool = False) -> T:
    """``request()`` with bounded retries; a HarnessError naming ``what`` and the endpoint when it gives up,
    or at once when this endpoint already gave up in this run.

    A ``splittable`` request (several items) that times out or gets a 5xx raises Split instead of
    being sent again: a timed-out server is still working on the request it abandoned, and resending
    it would only queue the same work behind it; a server may fail on a batch it cannot hold
    (llama-cpp-python's, with several inputs of a model that has no pooling layer)."""
    import openai

    if endpoint.gave_up:
        raise HarnessError(f"{what} at {endpoint.base_url} not tried: it failed earlier in this run "
                           f"({endpoint.gave_up})")

    retryable = (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError,
                 openai.APIResponseValidationError, Malformed, ValueError)
    waited_for = 0.0
    for attempt in range(1, endpoint.tries + 1):
        waited_for = endpoint.hold(waited_for)
        try:
            return request()
        except (openai.APITimeoutError, openai.InternalServerError) as err:
            if splittable:
                raise Split(_describe(err)) from None
            failure = err
        except openai.APIStatusError as err:
            if err.status_code != 429 and err.status_code < 500:
                raise HarnessError(f"{what} at {endpoint.base_url} was refused: {_describe(err)}") from None
            failure = err
        except retryable as err:
            failure = err
        if attempt == endpoint.tries:
            endpoint.gave_up = f"{endpoint.tries} tries: {_describe(failure)}"
            raise HarnessError(f"{what} at {endpoint.base_url} failed after {endpoint.gave_up}") from None
        told = _retry_after(failure)
        if told is not None:  # the server's limit holds for every request in flight, not just this one
            endpoint.paused_until = max(endpoint.paused_until, time.monotonic() + min(told, 60.0))
        else:
            _pause(min(endpoint.backoff * 2 ** (attempt - 1), 60.0))
    raise AssertionError("unreachable")
