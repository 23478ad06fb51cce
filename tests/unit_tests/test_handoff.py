"""The pump-to-client handoff: order, batching, back-pressure."""

import asyncio

from proxy.runs.handoff import Handoff


async def test_take_returns_everything_waiting_in_order() -> None:
    handoff = Handoff(10)
    for item in range(5):
        await handoff.put(item)
    assert await handoff.take() == [0, 1, 2, 3, 4]
    await handoff.put(5)
    assert await handoff.take() == [5]


async def test_take_waits_for_the_first_item() -> None:
    handoff = Handoff(10)
    taker = asyncio.create_task(handoff.take())
    await asyncio.sleep(0.01)
    assert not taker.done()
    await handoff.put("a")
    await handoff.put("b")  # before the taker runs: same batch
    assert await taker == ["a", "b"]


async def test_put_waits_while_full_and_loses_nothing() -> None:
    handoff = Handoff(3)
    received: list[int] = []

    async def produce() -> None:
        for item in range(100):
            await handoff.put(item)

    producer = asyncio.create_task(produce())
    await asyncio.sleep(0.01)
    assert not producer.done()  # stuck at the limit: no consumer yet
    while len(received) < 100:
        batch = await handoff.take()
        assert 1 <= len(batch) <= 3
        received += batch
    await producer
    assert received == list(range(100))


async def test_a_cancelled_taker_leaves_the_items() -> None:
    handoff = Handoff(10)
    taker = asyncio.create_task(handoff.take())
    await asyncio.sleep(0)
    taker.cancel()
    await asyncio.sleep(0)
    await handoff.put(1)
    assert await handoff.take() == [1]
