# syntax=docker/dockerfile:1
#
# The standalone OpenAI-compatible proxy: stateless, non-root, configured by environment only.
# Build from the repository root (the context needs pyproject.toml, uv.lock, proxy/, deploy/):
#
#   docker build -f deploy/proxy.Dockerfile -t langgraph-openai-proxy/proxy:latest .
#
# Only the proxy goes in: pyproject.toml's `proxy` extra (what proxy/ imports), at the versions
# pinned in uv.lock; not the graphs, nor LangGraph itself. tests/unit_tests/test_deploy.py
# checks that the extra covers every third-party import of proxy/ and that the settings below
# match proxy/settings.py.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build

ARG UV_VERSION=0.13.8

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never

RUN python -m pip install "uv==${UV_VERSION}"

WORKDIR /src
COPY pyproject.toml uv.lock ./
# uv.lock's production versions become constraints; --locked fails if the lock is stale.
RUN uv export --quiet --locked --no-dev --no-emit-project --no-hashes --format requirements-txt \
        --output-file /tmp/constraints.txt \
 && python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["proxy"]))' \
        > /tmp/proxy-requirements.txt \
 && uv venv --python "$(command -v python)" /opt/venv \
 && uv pip install --python /opt/venv/bin/python --constraint /tmp/constraints.txt \
        --requirement /tmp/proxy-requirements.txt


FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="langgraph-openai-proxy" \
      org.opencontainers.image.description="OpenAI-compatible Chat Completions API in front of a LangGraph server"

# Settings are environment variables (proxy/settings.py); these two make it listen in a
# container. Set LANGGRAPH_URL (required), PROXY_API_KEYS, LANGGRAPH_API_KEY, PROXY_* at run time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROXY_HOST=0.0.0.0 \
    PROXY_PORT=8000

RUN groupadd --system --gid 10001 proxy \
 && useradd --system --uid 10001 --gid proxy --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin proxy

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY proxy ./proxy
COPY deploy/healthcheck.py ./healthcheck.py
# Byte-compile as root: the app then starts fast on a read-only root filesystem.
RUN python -m compileall -q /app

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]

CMD ["python", "-m", "proxy"]
