-- Take one call for background work (reconciliation) from an API key's shared rate budget
-- (workers.ratebudget.RateBudget.acquire_background): within the whole budget, within the
-- background share, and never while live events are waiting.
--
-- KEYS[1]  billoget-hooks:api-budget:<scope>:calls             sorted set: call id -> Redis time
-- KEYS[3]  billoget-hooks:api-budget:<scope>:blocked-until     string: no call before this time
-- KEYS[4]  billoget-hooks:api-budget:<scope>:background-calls  sorted set: background calls
-- KEYS[5]  billoget-hooks:api-budget:<scope>:live-starved      string with a TTL: live events wait
-- ARGV[1]  window: seconds of the sliding window
-- ARGV[2]  limit: calls allowed in the window (the whole budget, less the reserve)
-- ARGV[3]  share: background calls allowed in the window (RECONCILE_BUDGET_SHARE of it)
-- ARGV[4]  call id: a unique member for the sorted sets
--
-- Returns "0" when the call is granted (and recorded in both sets), else the seconds to wait,
-- as text. "Now" is Redis TIME.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local share = tonumber(ARGV[3])
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return tostring(blocked - now) end
local starved = redis.call('PTTL', KEYS[5])
if starved > 0 then return tostring(starved / 1000) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(math.max(tonumber(oldest[2]) + window - now, 0.001))
end
if redis.call('ZCARD', KEYS[4]) >= share then
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if not oldest[2] then return tostring(window) end
  return tostring(math.max(tonumber(oldest[2]) + window - now, 0.001))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
redis.call('ZADD', KEYS[4], now, ARGV[4])
redis.call('PEXPIRE', KEYS[4], math.ceil(window * 1000))
return '0'
