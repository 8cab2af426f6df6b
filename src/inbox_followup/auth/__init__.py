"""OAuth flows and token files for Google and Microsoft accounts."""
