-- Release a per-entity fetch lock only if this holder still holds it
-- (workers.coalesce.EntityLock.hold): a lock that expired and was taken by another worker
-- is left alone.
--
-- KEYS[1]  billoget-hooks:fetch-lock:<family>:<entity id>  string: the holder's token
-- ARGV[1]  this holder's token
--
-- Returns 1 when released, 0 when the lock was not ours (or had expired).
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
