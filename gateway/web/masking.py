"""What the dashboard shows of a worker's identity (docs/design.md §5: compliance staff read
everything, PII masked).

* NIK: `150501******0001` (gateway.domain.nik.mask_nik): region and serial stay readable, the
  birth date is hidden.
* Name: the first word and the initials of the others, "Siti R. W.", so staff can tell two
  workers apart in a list and match a row to a roster line, without the full name being on
  a screen anyone walks past. A one-word name (common in Indonesia: "Sukarno") would be shown
  whole that way, so it shows its first two letters and a fixed "***": the length of the name
  is never given away. Dots and underscores count as spaces, and a first word longer than 12
  letters is cut the same way (a name typed without spaces would be shown whole).
"""

from __future__ import annotations

from gateway.domain.nik import mask_nik

__all__ = ["mask_name", "mask_nik"]


# Longer first words are cut: names typed with dots or underscores for spaces
# ("SITI_RAHAYU_WULANDARI", "Muhammad.Rizky") were shown nearly whole as their "first word".
FIRST_WORD_SHOWN = 12


def mask_name(name: str) -> str:
    words = name.replace("_", " ").replace(".", ". ").split()
    if not words:
        return ""
    first = words[0] if len(words[0]) <= FIRST_WORD_SHOWN else f"{words[0][:2]}***"
    if len(words) == 1:
        return f"{words[0][:2]}***"
    return " ".join([first, *(f"{w[0]}." for w in words[1:])])
