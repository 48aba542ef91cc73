# secflow worker / starter image: a static binary on a non-root distroless base.
#
#   docker build -t secflow .
#   docker run --rm -e TEMPORAL_ADDRESS=temporal:7233 secflow worker
#   docker run --rm -e TEMPORAL_ADDRESS=temporal:7233 -e SECFLOW_LISTEN=0.0.0.0:8080 -p 8080:8080 secflow starter
#
# Built with -tags nodev: the `dev` command and the embedded Temporal server
# it needs are left out (the image talks to an existing cluster only).
# Works with the classic builder and BuildKit alike (no RUN --mount).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly
# Dependencies first, so source edits do not invalidate this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -tags nodev -trimpath -ldflags="-s -w" -o /out/secflow . \
 && /out/secflow help >/dev/null \
 && mkdir -p /out/blobs

FROM gcr.io/distroless/static-debian12:nonroot
# CA certificates (TLS to Temporal Cloud, Elastic, Slack, ...) and tzdata come with the base.
COPY --from=build /out/secflow /usr/local/bin/secflow
# The bundled definitions; mount your own directory over /definitions.
COPY --from=build /src/definitions /definitions
# The blob store (large step outputs and alert events, kept out of Temporal
# history); the worker and the starter must share it: mount one volume here.
COPY --from=build --chown=65532:65532 /out/blobs /blobs
ENV SECFLOW_DEFINITIONS=/definitions \
    SECFLOW_BLOB_DIR=/blobs \
    SECFLOW_LOG_FORMAT=json
# uid/gid 65532 ("nonroot") from the base image.
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/secflow"]
CMD ["worker"]
