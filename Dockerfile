# Newsdesk: one image for every role (web, worker, beat, run); the command picks the role.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 newsdesk
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .

USER newsdesk
# The embedded SQLite database lives here when no NEWSDESK_DATABASE_URL is given.
VOLUME ["/home/newsdesk/.local/share/newsdesk"]
EXPOSE 8000
ENTRYPOINT ["newsdesk"]
# Single process: web + scheduler on SQLite. docker-compose.yml runs the distributed stack.
CMD ["run", "--host", "0.0.0.0", "--port", "8000"]
