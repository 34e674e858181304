# The service image the Helm chart runs: `connector-events` as entrypoint, non-root user 10001.
# Build: docker build -t connector-events:0.1.0 .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN groupadd --gid 10001 app && useradd --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001:10001
ENV PYTHONUNBUFFERED=1 CONNECTOR_EVENTS_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["connector-events"]
CMD ["run"]
