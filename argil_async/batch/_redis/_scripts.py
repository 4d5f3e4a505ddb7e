"""The Lua scripts of the Redis batch coordinator: each claim, renewal and save is atomic.

Keys (one hash slot, ``{name}``):

```text
KEYS[1] meta      hash    endpoint, digest (of the job keys and contents), batch id,
                          fence (the last claim token handed out)
KEYS[2] records   hash    job key -> the job's JobRecord as JSON (the journal)
KEYS[3] states    hash    job key -> its state (read by the scripts)
KEYS[4] queue     list    job keys waiting for a worker, mid-way ones first
KEYS[5] claims    zset    job key -> claim expiry (ms, Redis server clock)
KEYS[6] owners    hash    job key -> the claim holding it (``worker:token``), or
                          ``~worker:token`` once that claim lapsed or was given back
```

A claim whose worker stopped renewing it expires and its job goes back to the front of the
queue, for another worker to reconcile from its saved state. Each claim has a token of its
own (a counter in ``meta``), so a worker that lost a claim and claimed the same job again
cannot act on the old one. A save is fenced: it is refused (0) unless the saving claim is
still live; FENCE, run right before a create or a render is sent, does the same and extends
the lease to cover the request.

Every script but INIT takes the batch id (its epoch) first and checks that the batch is still
the one the worker opened: a Redis restarted without persistence, a FLUSHALL or an eviction
loses it, and each script then fails with ``ARGIL_BATCH_LOST`` instead of answering from
empty keys (an empty queue would look like a finished batch).
"""

from __future__ import annotations

from ..._redis import LUA_NOW

__all__ = ["CLAIM", "FENCE", "INIT", "RECORDS", "RELEASE", "RENEW", "SAVE", "STATES"]

#: The error a script raises when the batch it was called for is gone from Redis.
LOST = "ARGIL_BATCH_LOST"

_NOW = LUA_NOW

# ARGV[1] is the batch id the worker opened: the batch must still be there, and be that one.
_LIVE = """
if redis.call('HGET', KEYS[1], 'batch') ~= ARGV[1] or redis.call('EXISTS', KEYS[2]) == 0 then
  return redis.error_reply('ARGIL_BATCH_LOST')
end
"""

# ARGV[2] is the worker's claim (worker:token), ARGV[3] the job key: the claim must still hold
# the job, with its lease unexpired (else the script answers 0); ``expiry`` is that lease's end.
_HELD = """
if redis.call('HGET', KEYS[6], ARGV[3]) ~= ARGV[2] then return 0 end
local expiry = redis.call('ZSCORE', KEYS[5], ARGV[3])
if not expiry or tonumber(expiry) <= now then return 0 end
"""

#: ARGV: endpoint, digest, batch id, the digest a retry may replace ('' for none), n, then
#: n job key, record JSON pairs in file order, then the retry's key, record JSON pairs.
#: Returns {'new', batch, 0} | {'joined', batch, retried} | {'endpoint', theirs, 0} |
#: {'digest', '', 0}.
#: Joining with retry pairs while no worker holds a claim puts those jobs that are still
#: FAILED back in the queue with their new records; only then may the job file differ (in
#: those jobs alone, checked by the caller against ARGV[4]). Joining also requeues TIMED_OUT
#: jobs no worker holds, as a resumed run waits for them again.
INIT = (
    _NOW
    + """
local first_retry = 6 + 2 * tonumber(ARGV[5])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'endpoint', ARGV[1], 'digest', ARGV[2], 'batch', ARGV[3],
             'created', now)
  for i = 6, first_retry - 1, 2 do
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[3], ARGV[i], 'PENDING')
    redis.call('RPUSH', KEYS[4], ARGV[i])
  end
  return {'new', ARGV[3], 0}
end
local endpoint = redis.call('HGET', KEYS[1], 'endpoint')
if endpoint ~= ARGV[1] then return {'endpoint', endpoint, 0} end
local idle = redis.call('ZCOUNT', KEYS[5], '(' .. now, '+inf') == 0
local retried = 0
if idle and #ARGV >= first_retry then
  local digest = redis.call('HGET', KEYS[1], 'digest')
  if digest ~= ARGV[2] then
    if digest ~= ARGV[4] then return {'digest', '', 0} end
    for i = first_retry, #ARGV, 2 do  -- edited jobs: all must still be FAILED
      if redis.call('HGET', KEYS[3], ARGV[i]) ~= 'FAILED' then return {'digest', '', 0} end
    end
    redis.call('HSET', KEYS[1], 'digest', ARGV[2])
  end
  for i = first_retry, #ARGV, 2 do
    if redis.call('HGET', KEYS[3], ARGV[i]) == 'FAILED' then
      redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
      redis.call('HSET', KEYS[3], ARGV[i], 'PENDING')
      if not redis.call('LPOS', KEYS[4], ARGV[i]) then redis.call('RPUSH', KEYS[4], ARGV[i]) end
      retried = retried + 1
    end
  end
end
if redis.call('HGET', KEYS[1], 'digest') ~= ARGV[2] then return {'digest', '', 0} end
local states = redis.call('HGETALL', KEYS[3])
for i = 1, #states, 2 do
  local key = states[i]
  if states[i + 1] == 'TIMED_OUT' and not redis.call('ZSCORE', KEYS[5], key)
     and not redis.call('LPOS', KEYS[4], key) then
    redis.call('RPUSH', KEYS[4], key)
  end
end
return {'joined', redis.call('HGET', KEYS[1], 'batch'), retried}
"""
)

#: ARGV: batch id, worker, ttl ms. Returns {key, record JSON, claim token, the lapsed or
#: given-back claim it takes over ('' for none)} for a newly claimed job, else
#: {'', claims held (by anyone), ms until the first of them expires}.
CLAIM = (
    _NOW
    + _LIVE
    + """
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
for _, key in ipairs(gone) do
  redis.call('ZREM', KEYS[5], key)
  local holder = redis.call('HGET', KEYS[6], key)
  if holder then redis.call('HSET', KEYS[6], key, '~' .. holder) end
  redis.call('LPUSH', KEYS[4], key)
end
while true do
  local key = redis.call('LPOP', KEYS[4])
  if not key then break end
  local state = redis.call('HGET', KEYS[3], key)
  if state and state ~= 'DONE' and state ~= 'FAILED' and not redis.call('ZSCORE', KEYS[5], key) then
    local owner = ARGV[2] .. ':' .. redis.call('HINCRBY', KEYS[1], 'fence', 1)
    local before = redis.call('HGET', KEYS[6], key) or ''
    redis.call('ZADD', KEYS[5], now + tonumber(ARGV[3]), key)
    redis.call('HSET', KEYS[6], key, owner)
    return {key, redis.call('HGET', KEYS[2], key), owner, before}
  end
end
local first = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
if first[1] then return {'', redis.call('ZCARD', KEYS[5]), tonumber(first[2]) - now} end
return {'', 0, 0}
"""
)

#: ARGV: batch id, claim (worker:token), key, record JSON, state, finished (1/0). Returns 1 if
#: saved, 0 if that claim is no longer live. A finished job's claim ends here.
SAVE = (
    _NOW
    + _LIVE
    + _HELD
    + """
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
if ARGV[6] == '1' then
  redis.call('ZREM', KEYS[5], ARGV[3])
  redis.call('HDEL', KEYS[6], ARGV[3])
end
return 1
"""
)

#: ARGV: batch id, claim (worker:token), key, ttl ms. Run right before a create or a render is
#: sent: returns 1 if the claim is live (its lease then extended to ttl from now, so that
#: it covers the request), 0 if it was lost (nothing may be sent).
FENCE = (
    _NOW
    + _LIVE
    + _HELD
    + """
if tonumber(expiry) < now + tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[5], 'XX', now + tonumber(ARGV[4]), ARGV[3])
end
return 1
"""
)

#: ARGV: batch id. Every job's state, for the whole batch's progress.
STATES = (
    _LIVE
    + """
return redis.call('HVALS', KEYS[3])
"""
)

#: ARGV: batch id. Every job's record JSON (HGETALL of records), checked against the epoch.
RECORDS = (
    _LIVE
    + """
return redis.call('HGETALL', KEYS[2])
"""
)

#: ARGV: batch id, ttl ms, then key, claim pairs. Returns, per pair, 1 if renewed, 0 if the
#: claim is lost.
RENEW = (
    _NOW
    + _LIVE
    + """
local out = {}
for i = 3, #ARGV, 2 do
  local expiry = redis.call('ZSCORE', KEYS[5], ARGV[i])
  local held = redis.call('HGET', KEYS[6], ARGV[i]) == ARGV[i + 1]
  if held and expiry and tonumber(expiry) > now then
    if tonumber(expiry) < now + tonumber(ARGV[2]) then  -- never shortens a FENCE's lease
      redis.call('ZADD', KEYS[5], 'XX', now + tonumber(ARGV[2]), ARGV[i])
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""
)

#: ARGV: batch id, then key, claim pairs. Gives unfinished claims back (front of the queue)
#: when a worker stops early, so that others take them over at once instead of after the TTL.
RELEASE = (
    _LIVE
    + """
for i = 2, #ARGV, 2 do
  if redis.call('HGET', KEYS[6], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[5], ARGV[i])
    redis.call('HSET', KEYS[6], ARGV[i], '~' .. ARGV[i + 1])
    redis.call('LPUSH', KEYS[4], ARGV[i])
  end
end
return 1
"""
)
