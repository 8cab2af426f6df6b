"""Google: Calendar v3 and Gmail v1 through google-api-python-client, with its own sign-in."""
