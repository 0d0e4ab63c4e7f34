-- Take one call from an API key's shared rate budget (workers.ratebudget.RateBudget.acquire).
--
-- KEYS[1]  billoget-hooks:api-budget:<scope>:calls          sorted set: call id -> Redis time
-- KEYS[2]  billoget-hooks:api-budget:<scope>:next           string: earliest next call (pacing)
-- KEYS[3]  billoget-hooks:api-budget:<scope>:blocked-until  string: no call before this time
-- ARGV[1]  window: seconds of the sliding window (X-RateLimit-Window, else 3600)
-- ARGV[2]  limit: calls allowed in the window (our budget, Billoget's limit, less the reserve)
-- ARGV[3]  gap: seconds between two calls when pacing, 0 when not pacing
-- ARGV[4]  call id: a unique member for the sorted set
--
-- Returns "0" when the call is granted (and recorded), else the seconds to wait, as text.
-- "Now" is Redis TIME.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local gap = tonumber(ARGV[3])
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return tostring(blocked - now) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(math.max(tonumber(oldest[2]) + window - now, 0.001))
end
if gap > 0 then
  local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
  if nxt > now then return tostring(nxt - now) end
  redis.call('SET', KEYS[2], tostring(now + gap), 'PX', math.ceil(gap * 1000) + 1000)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
