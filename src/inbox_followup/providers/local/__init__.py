"""The local account: an .ics calendar (or a folder of them) in, reminders.ics out, a Maildir."""
