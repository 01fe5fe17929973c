"""Lists of whole numbers as users type them: "9,10", "0-4", "1, 3-5" (core, no heavy imports).

One parser for every such list (test folds in training and evaluation, seeds of
the augmentation benchmark), so the forms, the CLI flags and the saved configs
accept the same spellings and give the same message.
"""

from __future__ import annotations

from typing import Sequence

from synth_core.errors import InputError


def parse_ints(text: str | Sequence[int] | None, *, name: str, example: str = "0,1,2 or 0-4"
               ) -> tuple[int, ...] | None:
    """"9,10", "0-4", "1, 3-5" or [1, 2] -> a tuple of whole numbers; None or "" -> None.

    One parser for every list a user types (test folds, seeds); the error names
    ``name`` (a flag or a field label), the text and an example.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        try:
            if any(float(v) != int(v) for v in text):
                raise ValueError(text)
            return tuple(int(v) for v in text) or None
        except (TypeError, ValueError):
            raise InputError(f"{name} {list(text)!r} is not a list of whole numbers; write e.g. "
                             f"{example}") from None
    values: list[int] = []
    try:
        for part in text.replace(" ", "").split(","):
            if not part:
                continue
            if "-" in part[1:]:  # a range "lo-hi"; a leading "-" is a sign
                cut = part.index("-", 1)
                low, high = int(part[:cut]), int(part[cut + 1:])
                if high < low:
                    raise ValueError(part)
                values.extend(range(low, high + 1))
            else:
                values.append(int(part))
    except ValueError:
        raise InputError(f"{name} {text!r} is not a list of whole numbers; write e.g. "
                         f"{example}") from None
    return tuple(values) or None
