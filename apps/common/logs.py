"""Log formatting for people (TALLY_LOG_FORMAT=plain); the JSON format escapes by itself."""

import logging

# Line breaks and other control characters in user text (a group name, a username) would start a forged line.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


class EscapingFormatter(logging.Formatter):
    """One record, one line: control characters of the message (its arguments included) are escaped; a traceback
    keeps its own lines after it, as logging always writes it."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).translate(_ESCAPES)
