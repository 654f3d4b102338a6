# The callcenter service (FastAGI on 4573, HTTP on 8080). Built by docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the package needs (not .venv, .git or recordings). README.md is the package's readme.
COPY pyproject.toml README.md ./
COPY callcenter ./callcenter
RUN pip install .

# The settings file (config/callcenter.toml, read from the working directory) and the sample data.
COPY config ./config

# An unprivileged user. /recordings is world-writable with the sticky bit: the named volume mounted there
# takes this mode when it is first created, so Asterisk's user (another container, another uid) can write
# its recordings into it and this service can read them.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin callcenter \
    && mkdir -p /recordings \
    && chmod 1777 /recordings
USER callcenter

EXPOSE 4573 8080
CMD ["callcenter", "serve"]
