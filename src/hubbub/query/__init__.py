"""The search language shared by ``hubbub search``, exports and listening."""
