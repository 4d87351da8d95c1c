from datetime import date, timedelta

from django import forms

from apps.dashboards.selectors import CourseSpan

DEFAULT_WINDOW = timedelta(days=60)


class CourseWindowForm(forms.Form):
    """The days a course page shows, [start, end) as the v0 API reads them; by default the last 60 computed."""

    start = forms.DateField(required=False)
    end = forms.DateField(required=False, help_text="excluded")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] >= cleaned["end"]:
            raise forms.ValidationError("The window must end after it starts.")
        return cleaned

    def window(self, span: CourseSpan) -> tuple[date, date]:
        """The chosen [start, end), the course's last 60 computed days filling what was left out."""
        end = self.cleaned_data.get("end") or span.last + timedelta(days=1)
        start = self.cleaned_data.get("start") or max(span.first, end - DEFAULT_WINDOW)
        return start, end
