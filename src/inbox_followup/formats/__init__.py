"""File formats, read and written as bytes: iCalendar (RFC 5545) and the reminders file,
e-mail messages (RFC 5322, MIME). Pure translation; the caller does the I/O."""
