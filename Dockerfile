# dicomd in a container: the Debian package built in a first stage, then
# installed alone on Debian 12 slim (docs/operations.md). The server runs
# as the package's "dicomd" user; its data is the volume /var/lib/dicomd.
#   docker build -t dicomd . && docker run -p 8080:8080 -v dicomd-data:/var/lib/dicomd dicomd
FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps scripts/
RUN apt-get update && scripts/install-deps package && rm -rf /var/lib/apt/lists/*
COPY . .
RUN scripts/package

FROM debian:12-slim
COPY --from=build /src/build/package/dicomd_*.deb /tmp/
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/dicomd_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/dicomd_*.deb
USER dicomd
VOLUME /var/lib/dicomd
EXPOSE 8080
# Inside the container every address is the container's own: listen on all.
ENTRYPOINT ["/usr/bin/dicomd", "--config", "/etc/dicomd/dicomd.json", "--listen", "0.0.0.0:8080"]
