"""Values that compare equal to any string of a shape, so that tests can compare whole responses."""

import re


class Matches:
    def __init__(self, pattern: str, name: str):
        self.pattern = re.compile(pattern)
        self.name = name

    def __eq__(self, other) -> bool:
        return isinstance(other, str) and self.pattern.fullmatch(other) is not None

    def __repr__(self) -> str:
        return f"<any {self.name}>"


UUID = Matches(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID")
SUNBIRD_TS = Matches(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}:\d{3}\+0000", "Sunbird timestamp")
ISO_DATETIME = Matches(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", "ISO datetime")


class AnyInt:
    """Equal to any int (not a bool): a timestamp or a size that a test cannot know."""

    def __eq__(self, other) -> bool:
        return isinstance(other, int) and not isinstance(other, bool)

    def __repr__(self) -> str:
        return "<any int>"


ANY_INT = AnyInt()
