"""The Lua scripts of the Redis limiter: every change to the leases is one atomic script.

Keys (in one hash slot, ``{name}``, so a Redis Cluster accepts the scripts):

- ``KEYS[1]`` leases, a sorted set: lease token -> expiry (ms on the Redis server's clock)
- ``KEYS[2]`` assets, a hash: asset id -> the token of the lease that counts it
- ``KEYS[3]`` tokens, a hash: token -> asset id (to clean up an expired lease's asset)
- ``KEYS[4]`` cooldown, a string: when uploads may resume (ms), expiring by itself
- ``KEYS[5]`` processing, a string: the fleet's moving average of processing times (ms)

Times come from the server's ``TIME``, never from a client's clock, so machines whose
clocks disagree still agree on when a lease expires. Every script first drops the
expired leases, and publishes on the channel (``ARGV[1]``) whenever a slot is freed.
"""

from __future__ import annotations

from .._redis import LUA_NOW, lua_renew

__all__ = ["ACQUIRE", "BIND", "LEARN", "PAUSE", "RELEASE_ASSETS", "RELEASE_TOKENS", "RENEW"]

_PRELUDE = (
    LUA_NOW
    + """
local function drop(token)
  local asset = redis.call('HGET', KEYS[3], token)
  if asset then
    if redis.call('HGET', KEYS[2], asset) == token then redis.call('HDEL', KEYS[2], asset) end
    redis.call('HDEL', KEYS[3], token)
  end
  return redis.call('ZREM', KEYS[1], token)
end
local function expire(now)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
  for _, token in ipairs(gone) do drop(token) end
  if #gone > 0 then redis.call('PUBLISH', ARGV[1], 'expired') end
end
expire(now)
"""
)

#: ARGV: channel, token, slots, ttl ms. Returns {1, 0, average} when taken, else
#: {0, ms to wait, average}: until the cool-down ends, or until the first lease expires.
#: ``average`` is the fleet's processing time in ms (-1 while unknown). Run again with the
#: same token (a retry after a lost answer), it answers taken without a second slot.
ACQUIRE = (
    _PRELUDE
    + """
local average = tonumber(redis.call('GET', KEYS[5]) or '-1')
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return {1, 0, average} end
local paused = tonumber(redis.call('GET', KEYS[4]) or '0')
if paused > now then return {0, paused - now, average} end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[2])
  return {1, 0, average}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now, average}
"""
)

#: ARGV: channel, ms. Folds one processing time into the fleet's average (kept a day).
LEARN = (
    _PRELUDE
    + """
local seen = tonumber(ARGV[2])
local previous = tonumber(redis.call('GET', KEYS[5]) or '-1')
local average = seen
if previous >= 0 then average = math.floor((previous + seen) / 2) end
redis.call('SET', KEYS[5], average, 'EX', 86400)
return average
"""
)

#: ARGV: channel, token, asset id, ttl ms. Returns 1 when the lease now counts the asset,
#: 0 when another live lease already counts it (a duplicate upload): this one is freed.
#: A lease that expired meanwhile is put back: its asset is processing all the same.
BIND = (
    _PRELUDE
    + """
local held = redis.call('HGET', KEYS[2], ARGV[3])
if held and held ~= ARGV[2] and redis.call('ZSCORE', KEYS[1], held) then
  if drop(ARGV[2]) == 1 then redis.call('PUBLISH', ARGV[1], 'freed') end
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return 1
"""
)

#: ARGV: channel, ttl ms, tokens... Returns, per token, 1 if renewed, 0 if it is gone.
RENEW = _PRELUDE + lua_renew(
    zset="KEYS[1]", ttl="ARGV[2]", first=3, held="redis.call('ZSCORE', KEYS[1], member)"
)

#: ARGV: channel, tokens... Returns how many leases were freed.
RELEASE_TOKENS = (
    _PRELUDE
    + """
local freed = 0
for i = 2, #ARGV do freed = freed + drop(ARGV[i]) end
if freed > 0 then redis.call('PUBLISH', ARGV[1], 'freed') end
return freed
"""
)

#: ARGV: channel, asset ids... Frees the leases counting these assets, whoever holds them.
RELEASE_ASSETS = (
    _PRELUDE
    + """
local freed = 0
for i = 2, #ARGV do
  local token = redis.call('HGET', KEYS[2], ARGV[i])
  if token then freed = freed + drop(token) end
end
if freed > 0 then redis.call('PUBLISH', ARGV[1], 'freed') end
return freed
"""
)

#: ARGV: channel, pause ms. Extends the cool-down (never shortens it); returns its ms left.
PAUSE = (
    _PRELUDE
    + """
local wanted = now + tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[4]) or '0')
if wanted > current then
  redis.call('SET', KEYS[4], wanted, 'PX', tonumber(ARGV[2]))
  return tonumber(ARGV[2])
end
return current - now
"""
)
