# roomstream container image: the same build and runtime steps as the Makefile
# (`make build`: swift build -c release; `make run`: roomstream serve --config ...).
# Build: docker build -t roomstream .   Run: docker run -p 8080:8080 -v rs-data:/var/lib/roomstream roomstream

FROM swift:6.3.1-bookworm AS build
# Build dependencies, as the Makefile's RUN_PACKAGES: simdjson, zlib and libcurl headers.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates pkg-config zlib1g-dev libsimdjson-dev libcurl4-openssl-dev libssl-dev libmaxminddb-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies first so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Config ./Config
RUN swift build -c release --product roomstream \
 && install -D .build/release/roomstream /out/roomstream

# Runtime: the Swift runtime libraries (slim image), the shared libraries of RUN_PACKAGES
# (libsimdjson14, zlib1g, libcurl4 for S3 uploads, libssl3 for digests, ca-certificates for TLS to the store) and
# curl for the health check.
FROM swift:6.3.1-bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl libcurl4 libssl3 libsimdjson14 zlib1g libmaxminddb0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/roomstream --create-home roomstream
COPY --from=build /out/roomstream /usr/local/bin/roomstream
COPY Config/roomstream.json /etc/roomstream/roomstream.json
USER roomstream
WORKDIR /var/lib/roomstream
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["roomstream"]
CMD ["serve", "--config", "/etc/roomstream/roomstream.json", "--data-dir", "/var/lib/roomstream/data"]
