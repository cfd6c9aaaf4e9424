"""Domains the lab ships: ``tools.shop`` (the default). A domain of your own may live anywhere."""
