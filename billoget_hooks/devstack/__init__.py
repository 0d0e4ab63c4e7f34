"""``billoget-hooks dev``: the whole system on one machine (``stack``) and its demo (``demo``)."""
