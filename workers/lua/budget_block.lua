-- Stop every worker's calls with one API key for a while (workers.ratebudget.RateBudget.block_for),
-- e.g. for a 429's Retry-After. A block only ever grows: a shorter one does not shorten it.
--
-- KEYS[1]  billoget-hooks:api-budget:<scope>:blocked-until  string: no call before this time
-- ARGV[1]  seconds to block from now
--
-- Returns the Redis time the block ends at (this call's), as text. "Now" is Redis TIME.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ts = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ts > current then
  redis.call('SET', KEYS[1], tostring(until_ts), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return tostring(until_ts)
