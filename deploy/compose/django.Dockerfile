# The Django example (examples/django) under gunicorn, from Debian's
# packages: the versions the project's tests run. Built by compose.yaml from
# the repository root.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-django python3-jwt gunicorn \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The project and the middleware only: never a .env or test file.
COPY examples/django/hello /app/hello
COPY examples/django/approov_gateway_django /app/approov_gateway_django
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8000
# Every interface of the container, which is on compose's backend network
# only; outside a container, bind 127.0.0.1.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--worker-class", "gthread", "hello.wsgi"]
