"""`read_page` (what a rebuild reads the log with) gives the same events as `read_all`, decoding
only the types asked for, and says how far it read: from the in-memory tail and cold."""

from __future__ import annotations

from tests.support.domain import confirmed, open_store, placed, shipped


async def test_read_page_returns_what_read_all_does_and_only_the_types_asked_for(
    database_url: str,
) -> None:
    async with open_store(database_url) as store:
        for n in range(7):
            await store.append(f"o-{n}", [placed(f"o-{n}"), confirmed(f"o-{n}")])
        await store.append("o-0", [shipped("o-0")])
        async with open_store(database_url) as cold:  # nothing in its in-memory tail
            for log in (store, cold):
                everything = await log.read_all(0, 100)
                assert len(everything) == 15
                assert await log.read_page(0, 100) == (15, everything)
                assert await log.read_page(3, 5) == (8, everything[3:8])
                last, chosen = await log.read_page(0, 100, {"OrderShipped", "OrderPlaced"})
                assert last == 15
                assert chosen == [
                    e for e in everything if type(e.event).__name__ != "OrderConfirmed"
                ]
                assert await log.read_page(15, 100) == (15, [])


async def test_read_all_keeps_only_full_pages_so_a_short_page_grows_with_the_log(
    database_url: str,
) -> None:
    async with open_store(database_url) as store, open_store(database_url) as cold:
        for n in range(3):
            await store.append(f"o-{n}", [placed(f"o-{n}"), confirmed(f"o-{n}")])
        assert len(await cold.read_all(0, 10)) == 6
        await store.append("o-0", [shipped("o-0")])
        assert len(await cold.read_all(0, 10)) == 7  # the short page was not kept
        full = await cold.read_all(2, 4)
        again = await cold.read_all(2, 4)
        assert again == full == (await store.read_all(0, 100))[2:6]
        assert again is not full  # each reader gets its own list
