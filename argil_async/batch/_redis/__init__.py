"""The fleet store of a batch: its journal in Redis, shared by workers on several machines.

``_coordinator`` (``RedisCoordinator``: the batch's records, claims and fenced saves),
``_scripts`` (its Lua scripts) and ``_coordinated`` (one worker's run, and ``ClaimedWriter``,
the Redis ``JobStore``). Redis itself is reached through ``argil_async._redis``.
"""
