"""The webhook sender tool behind ``scripts/send_test_webhook``: signing and sending (``send``)
and its command line (``cli``)."""
