FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY pyproject.toml README.md manage.py ./
COPY config ./config
COPY apps ./apps
COPY static ./static
# collectstatic needs no secret: it runs on the base settings (production only adds checks of the real secret and
# HTTPS protections, which the web process applies at run time).
RUN pip install --no-cache-dir . \
    && DJANGO_SETTINGS_MODULE=config.settings.base python manage.py collectstatic --noinput
RUN useradd --create-home tally && mkdir -p /app/var && chown tally /app/var
USER tally
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
