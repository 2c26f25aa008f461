# The Django example (examples/django) under gunicorn, from Debian's
# packages: the versions the project's tests run. Built by compose.yaml from
# the repository root.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-django python3-jwt gunicorn \
    python3-pip python3-setuptools python3-wheel \
 && rm -rf /var/lib/apt/lists/*
# approov-django, installed offline from the repository, beside Debian's
# Django and PyJWT (the image's Python is the container's own).
COPY python/pyproject.toml python/README.md /src/approov-django/
COPY python/approov_django /src/approov-django/approov_django
RUN pip install --no-cache-dir --no-build-isolation --no-index --break-system-packages /src/approov-django \
 && rm -rf /src
WORKDIR /app
# The project only: never a .env or test file.
COPY examples/django/hello /app/hello
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8000
# Every interface of the container, which is on compose's backend network
# only; outside a container, bind 127.0.0.1.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--worker-class", "gthread", "hello.wsgi"]
