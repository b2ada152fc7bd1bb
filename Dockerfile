# iprisk service image: slim base, non-root user, model store and database on a volume.
# Build: docker build -t iprisk .
# Run:   docker run -p 8000:8000 -v iprisk-data:/data iprisk
#        (first start bootstraps the synthetic models into /data; later starts reuse them)
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# LightGBM needs the OpenMP runtime.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY scoring ./scoring
COPY models_store ./models_store
COPY training ./training
RUN python -m venv /opt/venv && /opt/venv/bin/pip install .

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 curl && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 iprisk && mkdir /data && chown iprisk /data
COPY --from=build /opt/venv /opt/venv
# NUMBA_CACHE_DIR: the SHAP kernels compile once (a few seconds) and later starts load them from the volume.
ENV PATH=/opt/venv/bin:$PATH \
    NUMBA_CACHE_DIR=/data/.numba-cache \
    IPRISK_HOME=/data \
    IPRISK_HOST=0.0.0.0 \
    IPRISK_PORT=8000
USER iprisk
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# Bootstrap can take about a minute on first start; readiness waits for models and database.
HEALTHCHECK --interval=15s --timeout=3s --start-period=180s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/readyz || exit 1
CMD ["iprisk", "serve"]
