"""The Bot API client: `POST <base>/bot<token>/<method>` answering `{"ok": true, "result": ...}`, and
file downloads from `<base>/file/bot<token>/<file_path>`. Production and tests differ only in the base
URL (tests run a local double of the API, `carekit.testing.telegram`)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from carekit.channels import http

DEFAULT_BASE_URL = "https://api.telegram.org"
TIMEOUT = 15.0
# Bot API: bots may download files of up to 20 MB.
MAX_FILE_BYTES = 20 * 1024 * 1024


class TelegramError(Exception):
    """The API refused the call (`ok: false`) or could not be reached.

    `retryable`: a network failure, a 5xx or a 429 (flood control, with `retry_after` seconds); the rest
    (400 bad request, 401 bad token, 403 bot blocked by the user) will not succeed when repeated.
    """

    def __init__(self, description: str, *, status: int = 0, retry_after: int = 0) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class Upload:
    field: str  # "photo" or "document"
    filename: str
    content_type: str
    content: bytes


class BotApi:
    def __init__(self, token: str, *, base_url: str = DEFAULT_BASE_URL, timeout: float = TIMEOUT) -> None:
        self.token = token
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        upload: Upload | None = None,
        timeout: float = 0,
    ) -> Any:
        url = f"{self.base_url}/bot{self.token}/{method}"
        if upload is None:
            body = json.dumps(params or {}).encode()
            headers = {"Content-Type": "application/json"}
        else:
            body, ctype = _multipart(params or {}, upload)
            headers = {"Content-Type": ctype}
        try:
            resp = http.request("POST", url, body=body, headers=headers, timeout=timeout or self.timeout)
        except (http.NetworkError, http.TooLarge) as exc:
            raise TelegramError(str(exc)) from exc
        try:
            data = json.loads(resp.body)
        except ValueError:
            raise TelegramError(f"HTTP {resp.status}: not JSON", status=resp.status or 502) from None
        if not isinstance(data, dict) or not data.get("ok"):
            data = data if isinstance(data, dict) else {}
            params_out = data.get("parameters") or {}
            raise TelegramError(
                str(data.get("description") or f"HTTP {resp.status}"),
                status=int(data.get("error_code") or resp.status or 502),
                retry_after=int(params_out.get("retry_after") or 0),
            )
        return data.get("result")

    def download(self, file_id: str, *, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, bytes]:
        """getFile, then the file itself; returns (file_path, content)."""
        info = self.call("getFile", {"file_id": file_id})
        path = str(info.get("file_path") or "")
        if not path:
            raise TelegramError("getFile answered without a file_path", status=400)
        try:
            resp = http.request(
                "GET",
                f"{self.base_url}/file/bot{self.token}/{path}",
                timeout=self.timeout,
                max_bytes=max_bytes,
            )
        except http.NetworkError as exc:
            raise TelegramError(str(exc)) from exc
        except http.TooLarge as exc:
            raise TelegramError(str(exc), status=413) from exc
        if resp.status != 200:
            raise TelegramError(f"file download: HTTP {resp.status}", status=resp.status)
        return path, resp.body


def _multipart(params: dict[str, Any], upload: Upload) -> tuple[bytes, str]:
    boundary = f"carekit{secrets.token_hex(12)}"
    parts: list[bytes] = []
    for key, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{text}\r\n'.encode()
        )
    safe_name = upload.filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
    parts.append(
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{upload.field}"; filename="{safe_name}"\r\n'
            f"Content-Type: {upload.content_type}\r\n\r\n"
        ).encode()
        + upload.content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
