# Harbor's one image: web (gunicorn), Celery worker and beat differ only by their command
# (see Procfile and docker-compose.yml). Configuration comes from the environment at run time;
# no secret is baked in.
#
# Database roles (SECURITY.md): run `python manage.py migrate` (and apply_retention,
# rotate_field_encryption) with a DATABASE_URL for harbor_owner, the role that owns the tables;
# run web, worker and beat with a DATABASE_URL for harbor_app, which owns nothing and holds only
# SELECT, INSERT, UPDATE and DELETE (deploy/postgres/10-harbor-roles.sh creates both).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system harbor \
    && useradd --system --gid harbor --home-dir /app --no-create-home --shell /usr/sbin/nologin harbor

WORKDIR /app

# The pinned dependencies first, so code changes don't reinstall them. pyproject.toml declares no
# Python packages (packages = []) and the code runs from /app, so only [project] dependencies are
# installed (not the dev extra), read straight from pyproject.toml.
COPY pyproject.toml ./
RUN python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' \
        > /tmp/requirements.txt \
    && pip install --upgrade pip \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY --chown=harbor:harbor . .

# Hashed, compressed static files (WhiteNoise). Settings need a secret key and database/broker
# URLs to load; these throwaway values exist only for this one command (nothing connects to
# them, and without a DATABASE_URL settings would start the embedded development PostgreSQL).
ARG COLLECTSTATIC_SECRET_KEY=collectstatic-only-not-a-secret
RUN DJANGO_SECRET_KEY="$COLLECTSTATIC_SECRET_KEY" \
    DATABASE_URL=postgres://collectstatic@127.0.0.1:1/collectstatic \
    REDIS_URL=redis://127.0.0.1:1/0 \
    HARBOR_MANIFEST_STATIC=true \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var/celery \
    && chown -R harbor:harbor /app/var /app/staticfiles

USER harbor

ENV HARBOR_MANIFEST_STATIC=true \
    PORT=8000
EXPOSE 8000

CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --access-logfile - --timeout 30"]
