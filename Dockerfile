# wirewatch: the service image. Install steps mirror the Makefile's `install` target.
# Build:  docker build -t wirewatch .
# Run:    docker run -v $PWD/config:/config:ro -v wirewatch-data:/data -e SLACK_BOT_TOKEN wirewatch
# Set TORCH_INDEX_URL to a CPU-only wheel index to keep torch's CUDA packages out of the image.

FROM python:3.11-slim AS build
ARG TORCH_INDEX_URL=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/wirewatch
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
# torch first and alone (the CPU build, pinned), then everything else from the lock file.
RUN /opt/wirewatch/bin/pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} torch==2.13.0 \
 && /opt/wirewatch/bin/pip install -c requirements.lock .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="wirewatch" \
      org.opencontainers.image.description="Media-monitoring alerts: coordinated attacks and internet shutdowns, once per story"
ENV PATH=/opt/wirewatch/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    PYTHONUNBUFFERED=1 WIREWATCH_CONFIG=/config/wirewatch.yaml
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin wirewatch \
 && mkdir -p /data /config && chown wirewatch /data
# The bundled model lives inside the installed package: no download at run time.
COPY --from=build /opt/wirewatch /opt/wirewatch
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["wirewatch"]
CMD ["run", "-c", "/config/wirewatch.yaml"]
