"""`python -m bench.inproc`: the production app driven in process, one POST /graphql at a time
(or N at once), with no server and no socket: what one request costs in the app itself, and,
with `--profile`, where (cProfile, which ranks costs that py-spy under load smears over
coroutine resumptions). For measuring one change at a time; the ratios of record are
`python -m bench`'s.

    python -m bench.inproc                                  # { __typename }
    python -m bench.inproc --workload list --seed 500       # a page, after 500 createOrders
    python -m bench.inproc --workload get --seed 10         # every field of the newest order
    python -m bench.inproc --workload create --concurrency 50 --profile tottime
    python -m bench.inproc --body request.json              # any POST body
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvloop

from bench import workloads as w
from bench.harness import SECRET, admin_token
from graph.app import create_app
from graph.settings import Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import Message


class Driver:
    """Sends POST /graphql requests straight into the app's ASGI callable."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.token = admin_token().encode()

    async def post(self, body: bytes) -> list[Message]:
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer " + self.token),
            (b"content-length", str(len(body)).encode()),
        ]
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError("unreachable")

        out: list[Message] = []

        async def send(message: Message) -> None:
            out.append(message)

        await self.app(scope, receive, send)
        return out

    async def many(self, body: bytes, count: int, concurrency: int) -> None:
        for _ in range(max(1, count // concurrency)):
            await asyncio.gather(*(self.post(body) for _ in range(concurrency)))


async def workload(driver: Driver, name: str) -> bytes:
    """The POST body of a named workload (`get` reads the newest order, placed if need be)."""
    if name == "get":
        placed = await driver.post(w.create_body().encode())
        order_id = json.loads(placed[-1]["body"])["data"]["createOrder"]["orderId"]
        return w.body(w.GET, {"id": order_id}).encode()
    bodies = {
        "typename": w.body(w.TYPENAME),
        "create": w.create_body(),
        "list": w.body(w.LIST),
        "five": w.body(w.FIVE),
    }
    return bodies[name].encode()


async def run(args: argparse.Namespace, folder: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'inproc.db'}",
        production=True,
        auth_secret=SECRET,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        driver = Driver(app)
        await driver.many(w.create_body().encode(), args.seed, 50)
        body = args.body.read_bytes() if args.body else await workload(driver, args.workload)
        first = await driver.post(body)
        print(first[0]["status"], first[-1]["body"][:160])
        await driver.many(body, 200, args.concurrency)
        profile = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        await driver.many(body, args.requests, args.concurrency)
        if profile is not None:
            profile.disable()
        elapsed = time.perf_counter() - started
        sent = max(1, args.requests // args.concurrency) * args.concurrency
        print(
            f"{elapsed / sent * 1e6:.1f} us a request ({sent} requests, {args.concurrency} at once)"
        )
        if profile is not None:
            pstats.Stats(profile).sort_stats(args.profile).print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc", description=__doc__)
    parser.add_argument("--body", type=Path, help="a JSON request body (instead of --workload)")
    parser.add_argument(
        "--workload",
        choices=("typename", "create", "get", "list", "five"),
        default="typename",
        help="a request of bench/workloads.py (default { __typename })",
    )
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="createOrders to send first")
    parser.add_argument("--profile", metavar="SORT", help="cProfile, sorted by SORT (tottime)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ordergraph-inproc-") as scratch:
        uvloop.run(run(args, Path(scratch)))


if __name__ == "__main__":
    main()
