# wirewatch: the service image. Install steps mirror the Makefile's `install` target:
# torch==2.13.0 (the CPU build) first and alone, then everything else from requirements.lock.
#
# Build:  docker build -t wirewatch .
# Run:    docker compose up -d                        (compose.yaml: config, secrets, volume)
#    or   docker run -v "$PWD/config/wirewatch.container.yaml:/config/wirewatch.yaml:ro" \
#                    -v wirewatch-data:/data -e SLACK_BOT_TOKEN -p 127.0.0.1:9464:9464 wirewatch
#
# The HEALTHCHECK runs inside the container: `server.listen: 127.0.0.1:9464` is enough for it
# (0.0.0.0 only to publish /metrics to the host; WIREWATCH_HEALTH_URL for another address);
# `storage.url` should point into /data, e.g. sqlite:////data/wirewatch.db.

# ---- build: a virtual environment with wirewatch, its pinned dependencies and the model ----
FROM python:3.11-slim AS build
# CPU-only torch wheels; set to "" to use only PyPI (and get a CUDA build of torch).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /src
RUN python -m venv /opt/wirewatch
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
RUN /opt/wirewatch/bin/pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} torch==2.13.0 \
 && /opt/wirewatch/bin/pip install -c requirements.lock . \
 && /opt/wirewatch/bin/python -m pip uninstall --yes pip
# The bundled model ships inside the installed packages: prove it loads with no network.
RUN /opt/wirewatch/bin/python -c "from wirewatch.rules.encoder import Encoder; Encoder().encode(['ok'])" \
 && /opt/wirewatch/bin/python -c "from wirewatch.rules.places import Gazetteer; Gazetteer.load()"

# ---- final: the runtime only (no compiler, no pip in the venv), as an unprivileged user ----
FROM python:3.11-slim
LABEL org.opencontainers.image.title="wirewatch" \
      org.opencontainers.image.description="Media-monitoring alerts: coordinated attacks and internet shutdowns, once per story" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/wirewatch/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    WIREWATCH_CONFIG=/config/wirewatch.yaml \
    WIREWATCH_LOG_FORMAT=json \
    WIREWATCH_HEALTH_URL=http://127.0.0.1:9464/healthz
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin wirewatch \
 && mkdir -p /data /config \
 && chown wirewatch:wirewatch /data
COPY --from=build /opt/wirewatch /opt/wirewatch
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9464
# SIGTERM: polls in flight finish, due alerts get a grace period (compose: stop_grace_period).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(os.environ['WIREWATCH_HEALTH_URL'], timeout=4).status == 200 else 1)"]
ENTRYPOINT ["wirewatch"]
CMD ["run"]
