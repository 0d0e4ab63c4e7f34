-- Renew the reconciliation lease only if this holder still holds it
-- (workers.reconcile.lease.Lease): a lease that lapsed and was taken by another worker is
-- left alone.
--
-- KEYS[1]  billoget-hooks:reconcile:lease  string: the holder's token
-- ARGV[1]  this holder's token
-- ARGV[2]  the new lifetime in milliseconds
--
-- Returns 1 when renewed, 0 when the lease was not ours (or had lapsed).
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
