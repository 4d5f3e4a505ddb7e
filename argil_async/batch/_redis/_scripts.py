"""The Lua scripts of the Redis batch coordinator: each claim, renewal and save is atomic.

Keys (one hash slot, ``{name}``)::

    KEYS[1] meta      hash    endpoint, digest (of the job keys and contents), batch id
    KEYS[2] records   hash    job key -> the job's JobRecord as JSON (the journal)
    KEYS[3] states    hash    job key -> its state (read by the scripts)
    KEYS[4] queue     list    job keys waiting for a worker, mid-way ones first
    KEYS[5] claims    zset    job key -> claim expiry (ms, Redis server clock)
    KEYS[6] owners    hash    job key -> the worker holding its claim

A claim whose worker stopped renewing it expires and its job goes back to the front of the
queue, for another worker to reconcile from its saved state. A save is fenced: it is refused
(0) unless the saving worker still holds a live claim on the job.
"""

from __future__ import annotations

from ..._redis import LUA_NOW, lua_renew

__all__ = ["CLAIM", "INIT", "RELEASE", "RENEW", "SAVE"]

_NOW = LUA_NOW

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

#: ARGV: worker, ttl ms. Returns {key, record JSON} for a newly claimed job, else
#: {'', claims held (by anyone), ms until the first of them expires}.
CLAIM = (
    _NOW
    + """
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
for _, key in ipairs(gone) do
  redis.call('ZREM', KEYS[5], key)
  redis.call('HDEL', KEYS[6], key)
  redis.call('LPUSH', KEYS[4], key)
end
while true do
  local key = redis.call('LPOP', KEYS[4])
  if not key then break end
  local state = redis.call('HGET', KEYS[3], key)
  if state and state ~= 'DONE' and state ~= 'FAILED' and not redis.call('ZSCORE', KEYS[5], key) then
    redis.call('ZADD', KEYS[5], now + tonumber(ARGV[2]), key)
    redis.call('HSET', KEYS[6], key, ARGV[1])
    return {key, redis.call('HGET', KEYS[2], key)}
  end
end
local first = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
if first[1] then return {'', redis.call('ZCARD', KEYS[5]), tonumber(first[2]) - now} end
return {'', 0, 0}
"""
)

#: ARGV: worker, key, record JSON, state, finished (1/0). Returns 1 if saved, 0 if the
#: worker no longer holds a live claim on the job. A finished job's claim ends here.
SAVE = (
    _NOW
    + """
if redis.call('HGET', KEYS[6], ARGV[2]) ~= ARGV[1] then return 0 end
local expiry = redis.call('ZSCORE', KEYS[5], ARGV[2])
if not expiry or tonumber(expiry) <= now then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
if ARGV[5] == '1' then
  redis.call('ZREM', KEYS[5], ARGV[2])
  redis.call('HDEL', KEYS[6], ARGV[2])
end
return 1
"""
)

#: ARGV: worker, ttl ms, keys... Returns, per key, 1 if renewed, 0 if the claim is lost.
RENEW = _NOW + lua_renew(
    zset="KEYS[5]",
    ttl="ARGV[2]",
    first=3,
    held="redis.call('HGET', KEYS[6], member) == ARGV[1]"
    " and tonumber(redis.call('ZSCORE', KEYS[5], member) or '0') > now",
)

#: ARGV: worker, keys... Gives unfinished claims back (front of the queue) when a worker
#: stops early, so that others take them over at once instead of after the TTL.
RELEASE = (
    _NOW
    + """
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[6], ARGV[i]) == ARGV[1] then
    redis.call('ZREM', KEYS[5], ARGV[i])
    redis.call('HDEL', KEYS[6], ARGV[i])
    redis.call('LPUSH', KEYS[4], ARGV[i])
  end
end
return 1
"""
)
