"""The application shell: the ``billoget-hooks`` command line, the dev stack and the webhook
sender tool. It imports every package of the product; none of them imports it."""
