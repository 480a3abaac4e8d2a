"""Many concurrent visitors through the widget's real transport, for `carekit bench channels`.

`drive(url, public_key, visitors=8, messages=50)` opens one websocket per visitor against a running
server, says hello, then sends messages one after another, each waiting for its ack (the message is
stored before the ack). It returns counts and ack latencies. Every visitor is a new anonymous id,
all from the caller's address, so give the bench channel a high `ip_messages_per_minute` (and
`visitor_messages_per_minute`) in its config, or the rate limits will refuse part of the load
(refusals are counted under `refused`).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from websockets.asyncio.client import connect


@dataclass
class LoadResult:
    visitors: int
    messages: int
    acked: int = 0
    duplicates: int = 0
    refused: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else 0.0

        out = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        out.update(
            {
                "throughput_per_s": round(self.acked / self.seconds, 1) if self.seconds else 0.0,
                "p50_ms": pct(0.50),
                "p95_ms": pct(0.95),
                "seconds": round(self.seconds, 3),
            }
        )
        return out


async def _visitor(url: str, origin: str, n: int, tag: str, result: LoadResult) -> None:
    async with connect(url, additional_headers={"Origin": origin}, open_timeout=20) as ws:
        await ws.send(json.dumps({"type": "hello", "visitor": "", "lang": "en"}))
        while json.loads(await ws.recv())["type"] != "welcome":
            pass
        for i in range(n):
            client_id = f"b{tag}x{i:06d}"
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": f"bench {tag} {i}"}))
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("client_id") == client_id and frame["type"] in ("ack", "error"):
                    break
            if frame["type"] == "ack":
                result.acked += 1
                result.duplicates += int(frame["duplicate"])
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
            elif frame.get("code") == "rate_limited":
                result.refused += 1
            else:
                result.errors += 1


async def drive_async(base_url: str, public_key: str, *, visitors: int = 8, messages: int = 50) -> LoadResult:
    origin = base_url.rstrip("/")
    url = origin.replace("http", "ws", 1) + f"/ws/webchat/{public_key}/"
    result = LoadResult(visitors=visitors, messages=visitors * messages)
    stamp = str(time.time_ns())[-8:]
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *(_visitor(url, origin, messages, f"{stamp}v{v}", result) for v in range(visitors)),
        return_exceptions=True,
    )
    result.seconds = time.perf_counter() - started
    result.errors += sum(1 for o in outcomes if isinstance(o, BaseException))
    return result


def drive(base_url: str, public_key: str, *, visitors: int = 8, messages: int = 50) -> dict[str, Any]:
    """Run the load from synchronous code (a management command); returns the summary as a dict."""
    return asyncio.run(drive_async(base_url, public_key, visitors=visitors, messages=messages)).summary()
