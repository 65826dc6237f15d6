"""A local stand-in for the Anthropic API on 127.0.0.1, for tests of the review layer.

It checks each request the way the real API does (API key and anthropic-version headers,
model, max_tokens, messages, the JSON-schema output format, the batch request shape) and
returns scripted replies: verdicts, HTTP 429 with retry-after, 529 overloaded, 500,
replies that break the verdict schema, and batches whose results arrive in reverse order with
chosen entries errored or expired.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
DEFAULT_VERDICT = {
    "relation": "same",
    "confidence": 0.9,
    "decisive_difference": "No outcome found in which one contract pays and the other does not.",
    "resolution_risks": [],
}


@dataclass
class Reply:
    """One scripted reply to POST /v1/messages: an HTTP error status, a verdict or raw text."""

    status: int = 200
    verdict: dict[str, Any] | None = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class AnthropicStub:
    """Start with `with AnthropicStub(api_key=...) as stub:` and pass stub.base_url to the SDK.

    - `replies`: replies used in order by POST /v1/messages; when empty, `verdict_for` decides.
    - `verdicts`: substring of the user message -> verdict, checked by `verdict_for`.
    - `batch_errored` / `batch_expired`: substrings of the user message whose batch entries fail.
    - `batch_polls_in_progress`: GET polls that still report in_progress before a batch ends.
    - `messages`, `batches`: every accepted request body, for assertions.
    """

    def __init__(self, api_key: str):
        self.api_key = api_key
        self.replies: deque[Reply] = deque()
        self.verdicts: dict[str, dict[str, Any]] = {}
        self.batch_errored: set[str] = set()
        self.batch_expired: set[str] = set()
        self.batch_invalid: set[str] = set()
        self.batch_polls_in_progress = 1
        self.messages: list[dict[str, Any]] = []
        self.batches: dict[str, dict[str, Any]] = {}
        self.rejected: list[tuple[int, str]] = []
        self.http_log: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self._cached_systems: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> AnthropicStub:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- request checks, as the real API applies them ---------------------------------------

    def check_params(self, body: Any) -> str | None:
        """Return an invalid_request_error message for a Messages API body, or None when valid."""
        if not isinstance(body, dict):
            return "body: expected an object"

        if not isinstance(body.get("model"), str) or not body["model"]:
            return "model: Field required"
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return "max_tokens: Field required (a positive integer)"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: Field required"
        for position, message in enumerate(messages):
            if message.get("role") not in ("user", "assistant") or not message.get("content"):
                return f"messages.{position}: role and non-empty content required"

        system = body.get("system", [])
        if isinstance(system, list):
            for block in system:
                if block.get("type") != "text" or not isinstance(block.get("text"), str):
                    return "system: each block must be a text block"
                cache_control = block.get("cache_control")
                if cache_control is not None and cache_control.get("type") != "ephemeral":
                    return "system.cache_control.type: Input should be 'ephemeral'"

        output_format = (body.get("output_config") or {}).get("format")
        if output_format is not None:
            if output_format.get("type") != "json_schema" or not isinstance(output_format.get("schema"), dict):
                return "output_config.format: expected {type: json_schema, schema: {...}}"
            for key in _schema_keys(output_format["schema"]):
                if key in ("minimum", "maximum", "minLength"):
                    return f"output_config.format.schema: keyword {key!r} is not supported"
        return None

    def verdict_for(self, body: dict[str, Any]) -> dict[str, Any]:
        text = _user_text(body)
        for marker, verdict in self.verdicts.items():
            if marker in text:
                return verdict
        return DEFAULT_VERDICT

    def message_json(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        system_text = "".join(block["text"] for block in body.get("system", []) if isinstance(block, dict))
        cached = any(block.get("cache_control") for block in body.get("system", []) if isinstance(block, dict))
        system_tokens = len(system_text) // 4
        with self.lock:
            seen = system_text in self._cached_systems
            self._cached_systems.add(system_text)
        return {
            "id": f"msg_{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": len(_user_text(body)) // 4 + (0 if cached else system_tokens),
                "output_tokens": len(text) // 4,
                "cache_creation_input_tokens": system_tokens if cached and not seen else 0,
                "cache_read_input_tokens": system_tokens if cached and seen else 0,
            },
        }

    # --- HTTP -----------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
                      content_type: str = "application/json") -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", f"req_{uuid.uuid4().hex[:12]}")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
                with stub.lock:
                    stub.http_log.append((self.command, self.path, status))

            def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
                with stub.lock:
                    stub.rejected.append((status, message))
                self._send(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

            def _authorized(self) -> bool:
                # anthropic 2.17 sends an API key as "Authorization: Bearer <key>"; earlier
                # releases sent "x-api-key: <key>". Either is accepted when the key matches.
                bearer = self.headers.get("authorization", "")
                sent = {self.headers.get("x-api-key"), bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None}
                if stub.api_key not in sent:
                    self._error(401, "authentication_error", "invalid x-api-key")
                    return False
                if not self.headers.get("anthropic-version"):
                    self._error(400, "invalid_request_error", "anthropic-version: header is required")
                    return False
                return True

            def _body(self) -> Any:
                length = int(self.headers.get("content-length") or 0)
                try:
                    return json.loads(self.rfile.read(length) or b"null")
                except json.JSONDecodeError:
                    return None

            def do_POST(self) -> None:  # noqa: N802 (http.server names)
                if not self._authorized():
                    return
                body = self._body()
                if self.path == "/v1/messages":
                    self._post_message(body)
                elif self.path == "/v1/messages/batches":
                    self._post_batch(body)
                elif re.fullmatch(r"/v1/messages/batches/[\w-]+/cancel", self.path):
                    batch_id = self.path.split("/")[-2]
                    self._send(200, stub._batch_json(batch_id, ended=True))
                else:
                    self._error(404, "not_found_error", f"no route for POST {self.path}")

            def do_GET(self) -> None:  # noqa: N802 (http.server names)
                if not self._authorized():
                    return
                match = re.fullmatch(r"/v1/messages/batches/([\w-]+)(/results)?", self.path)
                if not match or match.group(1) not in stub.batches:
                    self._error(404, "not_found_error", f"no route for GET {self.path}")
                    return
                batch_id = match.group(1)
                if match.group(2):
                    self._send(200, stub._results_jsonl(batch_id), content_type="application/binary")
                    return
                with stub.lock:
                    batch = stub.batches[batch_id]
                    batch["polls"] += 1
                    ended = batch["polls"] > stub.batch_polls_in_progress
                self._send(200, stub._batch_json(batch_id, ended=ended, base_url=stub.base_url))

            def _post_message(self, body: Any) -> None:
                problem = stub.check_params(body)
                if problem:
                    self._error(400, "invalid_request_error", problem)
                    return
                with stub.lock:
                    stub.messages.append(body)
                    reply = stub.replies.popleft() if stub.replies else None
                if reply is not None and reply.status != 200:
                    kinds = {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error"}
                    self._error(reply.status, kinds.get(reply.status, "api_error"), f"scripted HTTP {reply.status}", reply.headers)
                    return
                if reply is not None and reply.text is not None:
                    text = reply.text
                else:
                    text = json.dumps(reply.verdict if reply is not None and reply.verdict else stub.verdict_for(body))
                self._send(200, stub.message_json(body, text))

            def _post_batch(self, body: Any) -> None:
                requests = body.get("requests") if isinstance(body, dict) else None
                if not isinstance(requests, list) or not requests:
                    self._error(400, "invalid_request_error", "requests: Field required")
                    return
                seen = set()
                for position, request in enumerate(requests):
                    custom_id = request.get("custom_id")
                    if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
                        self._error(400, "invalid_request_error", f"requests.{position}.custom_id: must match ^[a-zA-Z0-9_-]{{1,64}}$")
                        return
                    if custom_id in seen:
                        self._error(400, "invalid_request_error", f"requests.{position}.custom_id: duplicate {custom_id}")
                        return
                    seen.add(custom_id)
                    problem = stub.check_params(request.get("params"))
                    if problem:
                        self._error(400, "invalid_request_error", f"requests.{position}.params.{problem}")
                        return
                batch_id = f"msgbatch_{uuid.uuid4().hex[:16]}"
                with stub.lock:
                    stub.batches[batch_id] = {"requests": requests, "polls": 0}
                self._send(200, stub._batch_json(batch_id, ended=False))

        return Handler

    def _batch_json(self, batch_id: str, *, ended: bool, base_url: str = "") -> dict[str, Any]:
        total = len(self.batches[batch_id]["requests"])
        return {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {"processing": 0 if ended else total, "succeeded": total if ended else 0,
                               "errored": 0, "canceled": 0, "expired": 0},
            "created_at": "2026-12-04T20:00:00Z",
            "expires_at": "2026-12-05T20:00:00Z",
            "ended_at": "2026-12-04T20:05:00Z" if ended else None,
            "results_url": f"{base_url}/v1/messages/batches/{batch_id}/results" if ended and base_url else None,
        }

    def _results_jsonl(self, batch_id: str) -> bytes:
        lines = []
        # Reverse order: results are not guaranteed to follow the request order.
        for request in reversed(self.batches[batch_id]["requests"]):
            text = _user_text(request["params"])
            if any(marker in text for marker in self.batch_errored):
                result = {"type": "errored", "error": {"type": "error", "error": {"type": "api_error", "message": "scripted batch error"}}}
            elif any(marker in text for marker in self.batch_expired):
                result = {"type": "expired"}
            elif any(marker in text for marker in self.batch_invalid):
                result = {"type": "succeeded", "message": self.message_json(request["params"], "not json at all")}
            else:
                verdict = json.dumps(self.verdict_for(request["params"]))
                result = {"type": "succeeded", "message": self.message_json(request["params"], verdict)}
            lines.append(json.dumps({"custom_id": request["custom_id"], "result": result}))
        return ("\n".join(lines) + "\n").encode("utf-8")


def _user_text(body: dict[str, Any]) -> str:
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(block.get("text", "") for block in content if isinstance(block, dict))
    return "\n".join(parts)


def _schema_keys(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        keys = list(schema)
        for key, value in schema.items():
            if key != "properties":
                keys.extend(_schema_keys(value))
            else:
                for item in value.values():
                    keys.extend(_schema_keys(item))
        return keys
    if isinstance(schema, list):
        return [key for item in schema for key in _schema_keys(item)]
    return []
