"""Tracking-log lines of one learner in one course, written as Open edX writes them, for the aggregator's tests."""

import json
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Learner:
    """A learner of the LMS: ingest makes them a Tally user called `username` with this LMS id."""

    username: str
    lms_user_id: int
    course_id: str

    def line(self, event_type: str, moment: datetime, event: dict, *, source: str = "server") -> str:
        return json.dumps(
            {
                "username": self.username,
                "event_source": source,
                "event_type": event_type,
                "name": event_type,
                "time": moment.isoformat(),
                "context": {"course_id": self.course_id, "user_id": self.lms_user_id, "path": "/event"},
                "event": event if source == "server" else json.dumps(event),
            }
        )

    def enrol(self, moment: datetime, *, active: bool = True) -> str:
        kind = "activated" if active else "deactivated"
        payload = {"course_id": self.course_id, "user_id": self.lms_user_id, "mode": "audit"}
        return self.line(f"edx.course.enrollment.{kind}", moment, payload)

    def problem(self, moment: datetime, block: str, *, correct: bool, grade: float, max_grade: float) -> str:
        event = {
            "problem_id": self.block("problem", block),
            "success": "correct" if correct else "incorrect",
            "grade": grade,
            "max_grade": max_grade,
        }
        return self.line("problem_check", moment, event)

    def video(self, moment: datetime, event_type: str, block: str, *, position: float, duration: float) -> str:
        event = {"id": self.block("video", block), "currentTime": position, "duration": duration, "code": "html5"}
        return self.line(event_type, moment, event, source="browser")

    def completion(self, moment: datetime, block: str) -> str:
        event = {"block_id": self.block("html", block), "completion": 1.0}
        return self.line("edx.completion.block_completion.changed", moment, event)

    def block(self, kind: str, name: str) -> str:
        return f"block-v1:{self.course_id.removeprefix('course-v1:')}+type@{kind}+block@{name}"
