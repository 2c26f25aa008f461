# The approov-gateway image: the static binary on an empty filesystem, run
# as uid 65532, with no shell and nothing else to run.
#
# One image, two ways to build it (docs/DEPLOYMENT.md):
#
#   docker build -t approov-gateway .
#       compiles the binary in the golang image: needs a registry.
#   deploy/image/build approov-gateway
#       compiles it with the local Go and builds the `prebuilt` target from a
#       context holding only rootfs/ (the binary and this machine's CA
#       certificates), with podman or buildah: needs no registry.
#
# No HEALTHCHECK: Docker runs one with the image's own programs, and there
# are none but the gateway. Probe GET /healthz (alive) and GET /readyz (keys
# loaded, not draining) on the admin port, 9002, from outside: an
# orchestrator's HTTP probe, or curl on the published port.

ARG GO_VERSION=1.26
# GO_TAGS=extauthz builds approov-gateway-envoy, with Envoy's gRPC
# ext_authz (ext_authz_grpc_listen): docker build --build-arg GO_TAGS=extauthz
ARG GO_TAGS=

FROM golang:${GO_VERSION} AS build
ARG GO_TAGS
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The image's filesystem, assembled where there is a shell: the binary, CA
# certificates for https upstreams, and a /tmp for request bodies spooled
# while their message signature is checked. .git is in the context so that
# `approov-gateway version` names the revision.
RUN CGO_ENABLED=0 go build -trimpath -tags "${GO_TAGS}" -o /rootfs/approov-gateway ./cmd/approov-gateway \
 && mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && chmod 1777 /rootfs/tmp

# What both targets share. The listen addresses are every interface, since
# in a container the defaults (127.0.0.1) are reachable by no one; being
# environment variables, they win over a YAML file's listen and
# admin_listen, and docker run -e or compose's environment changes them.
FROM scratch AS runtime
LABEL org.opencontainers.image.title="approov-gateway" \
      org.opencontainers.image.description="Approov token checks in front of an HTTP API" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV APPROOV_LISTEN=:8002 APPROOV_ADMIN_LISTEN=:9002
USER 65532:65532
EXPOSE 8002 9002
ENTRYPOINT ["/approov-gateway", "serve"]

# Built from rootfs/ in the build context, made by deploy/image/build.
FROM runtime AS prebuilt
COPY rootfs/ /

# The default target, last: built from source by the build stage.
FROM runtime AS gateway
COPY --from=build /rootfs/ /
