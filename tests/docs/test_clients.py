"""docs/clients.md stays true: its blocks, written to a scratch project with the packages from
npm, run in Node.js against a live server (`127.0.0.1:8000` in the doc is that server).

Apollo Client and urql page through `orders` (and Apollo `Customer.orders`) with the merge their
cache does, open an order from the cache with no request, and see a change another client made
arrive by subscription (Apollo's over the WebSocket, multipart HTTP and server-sent events);
GraphQL Code Generator reads the SDL route, and the code using its output compiles under
`strict`, refuses a wrong type, and runs."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.docs.doc_files import doc_blocks
from tests.support.browser import (
    CLIENT_PACKAGES,
    JS_DIR,
    empty_home,
    node_modules,
    node_path,
    node_script,
    npm_env,
    scratch_dir,
)
from tests.support.graph import CREATE_ORDER, order_input, post_data, uvicorn_server

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "clients.md"
DOC_ADDRESS = "127.0.0.1:8000"
COMMAND_TIMEOUT_SECONDS = 180
CONFIRM = """mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"""
NEWEST = """query($first: Int) { orders(first: $first) { edges { node { id } } } }"""
CUSTOMER = """query($id: ID!) {
  customer(id: $id) { orders(first: 4) { edges { node { id } } } } }"""

pytestmark = pytest.mark.slow


def test_the_doc_marks_its_files_and_commands() -> None:
    blocks = doc_blocks(DOC.read_text(encoding="utf-8"))
    assert {
        "apollo/cache.mjs",
        "apollo/client.mjs",
        "apollo/orders.mjs",
        "apollo/http-only.mjs",
        "apollo/sse-link.mjs",
        "urql/client.mjs",
        "urql/orders.mjs",
        "codegen/codegen.ts",
        "codegen/src/orders.graphql",
        "codegen/src/status.ts",
        "codegen/tsconfig.json",
    } <= set(blocks.files)
    assert blocks.commands == {
        "codegen": "npx graphql-codegen --config codegen.ts",
        "compile": "npx tsc -p .",
    }
    served = [name for name, text in blocks.files.items() if DOC_ADDRESS in text]
    assert set(served) >= {"apollo/client.mjs", "apollo/http-only.mjs", "apollo/sse-link.mjs"}


@pytest.fixture
def served(sqlite_url: str) -> Iterator[str]:
    with uvicorn_server(sqlite_url) as address:
        yield address


async def seeded(address: str) -> list[str]:
    """Six orders, four of them ada's; their ids, newest first."""
    for customer in ["ada", "grace", "ada", "ada", "grace", "ada"]:
        await post_data(address, CREATE_ORDER, {"input": order_input(customer)})
    data = await post_data(address, NEWEST, {"first": 6})
    return [edge["node"]["id"] for edge in data["orders"]["edges"]]


def project(address: str) -> Path:
    """The doc's files in a new folder, `127.0.0.1:8000` pointed at `address`, beside the
    harness scripts and the installed packages."""
    modules = node_modules(CLIENT_PACKAGES)
    folder = Path(os.path.realpath(scratch_dir())) / f"clients-{os.urandom(4).hex()}"
    folder.mkdir()
    (folder / "node_modules").symlink_to(modules, target_is_directory=True)
    (folder / "package.json").write_text('{ "type": "module" }\n', encoding="utf-8")
    for name, text in doc_blocks(DOC.read_text(encoding="utf-8")).files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(DOC_ADDRESS, address), encoding="utf-8")
    for script in ["harness.cjs", "clients_apollo.mjs", "clients_urql.mjs", "clients_codegen.mjs"]:
        shutil.copyfile(JS_DIR / script, folder / script)
    return folder


def run_doc_command(name: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """The doc's command `name`, run in `folder` as a person would (npx finds the local bin)."""
    command = doc_blocks(DOC.read_text(encoding="utf-8")).commands[name]
    env = {
        **npm_env(folder),
        "HOME": str(empty_home()),
        "PATH": f"{Path(node_path()).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "npm_config_offline": "true",  # the packages are installed: npx must not fetch any
    }
    return subprocess.run(
        shlex.split(command),
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )


async def test_apollo_client_pages_reads_from_the_cache_and_follows(served: str) -> None:
    newest = await seeded(served)
    folder = project(served)
    async with node_script(folder / "clients_apollo.mjs", packages=CLIENT_PACKAGES) as js:
        first = await js.expect("first", timeout=30)
        assert (first["ids"], first["requests"]) == (newest[:2], 1)
        more = await js.expect("more")
        assert (more["ids"], more["requests"]) == (newest[:4], 2)  # one list, two pages
        opened = await js.expect("opened")
        assert opened["order"]["id"] == newest[3]
        assert opened["requests"] == 2  # Query.order read the cache: no request
        customer = await js.expect("customer")
        theirs = await post_data(served, CUSTOMER, {"id": "ada"})
        assert customer["ids"] == [e["node"]["id"] for e in theirs["customer"]["orders"]["edges"]]
        assert customer["requests"] == 4
        await js.expect("following")
        await post_data(served, CONFIRM, {"id": newest[1]})  # another client confirms it
        await js.send("confirmed", orderId=newest[1])
        updated = await js.expect("updated")
        assert updated["ids"] == newest[:4]
        assert updated["opened"]["status"] == "CONFIRMED"
        assert updated["requests"] == 4  # pushed over the WebSocket into the cache
        await js.expect("following-http")
        await post_data(served, CONFIRM, {"id": newest[2]})
        await js.send("confirmed", orderId=newest[2])
        over_http = await js.expect("http-updated")
        confirmed = {"id": newest[2], "status": "CONFIRMED"}
        assert over_http["seen"] == {"multipart": confirmed, "sse": confirmed}
        await js.finish()


async def test_urql_graphcache_pages_reads_from_the_cache_and_follows(served: str) -> None:
    newest = await seeded(served)
    folder = project(served)
    async with node_script(folder / "clients_urql.mjs", packages=CLIENT_PACKAGES) as js:
        first = await js.expect("first", timeout=30)
        assert (first["ids"], first["requests"]) == (newest[:2], 1)
        more = await js.expect("more")
        assert (more["ids"], more["requests"]) == (newest[:4], 2)  # relayPagination merged
        opened = await js.expect("opened")
        assert opened["order"]["id"] == newest[3]
        assert opened["requests"] == 2  # the resolver found it in the cache
        await js.expect("following")
        await post_data(served, CONFIRM, {"id": newest[2]})
        await js.send("confirmed", orderId=newest[2])
        updated = await js.expect("updated")
        assert updated["opened"]["status"] == "CONFIRMED"
        assert updated["requests"] == 2
        placed = await js.expect("placed")
        assert placed["ids"][0] == placed["orderId"]  # the lists went stale and were read again
        assert placed["requests"] == 4  # the mutation, then the list
        await js.finish()


async def test_codegen_types_the_sdl_route_and_the_typed_code_runs(served: str) -> None:
    newest = await seeded(served)
    folder = project(served)
    codegen = folder / "codegen"
    generated = run_doc_command("codegen", codegen)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    types = (codegen / "src" / "gql" / "graphql.ts").read_text(encoding="utf-8")
    assert "export type OrderStatus =" in types
    assert "export const OrderSummaryDocument" in types
    assert "totalAmount: string" in types  # Decimal is a string on the wire, never a number

    compiled = run_doc_command("compile", codegen)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert (codegen / "dist" / "status.js").is_file()

    wrong = codegen / "src" / "wrong.ts"
    wrong.write_text(
        'import type { OrderSummaryQuery } from "./gql/graphql.js";\n'
        "export const total: number = ({} as OrderSummaryQuery).order!.totalAmount;\n",
        encoding="utf-8",
    )
    refused = run_doc_command("compile", codegen)
    assert refused.returncode != 0
    assert "wrong.ts" in refused.stdout
    assert "TS2322" in refused.stdout  # a string is not assignable to a number
    wrong.unlink()

    status: dict[str, Any]
    async with node_script(
        folder / "clients_codegen.mjs", newest[0], packages=CLIENT_PACKAGES
    ) as js:
        status = await js.expect("status", timeout=30)
        await js.finish()
    assert status["status"] == "PLACED"
