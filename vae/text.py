"""Text from files of unknown encoding: ABC tune books, MIDI track names and lyrics.

Sources mix encodings: UTF-8, Windows-1252, and DOS code page 437 bytes that were once converted to
UTF-8 as if they were Latin-1 (the Essen collection's "MÂ\\x84dchen" is "Mädchen": byte 0x84 is "ä" in
CP437). `decode_text` tries UTF-8, then Windows-1252, and maps the C1 control characters
(U+0080-U+009F, never meant as text) through CP437.
"""

from __future__ import annotations

import re

_C1 = re.compile("[\u0080-\u009f]")


def decode_text(data: bytes) -> str:
    """Bytes -> text: UTF-8 when valid, else Windows-1252 (Latin-1 for its 5 unassigned bytes); C1
    control characters become the CP437 letters they stand for."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    return _C1.sub(lambda m: bytes([ord(m.group())]).decode("cp437"), text)
