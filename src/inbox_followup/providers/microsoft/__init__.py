"""Microsoft: Outlook calendar and mail through Microsoft Graph, signed in with MSAL."""
