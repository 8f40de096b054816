# syntax=docker/dockerfile:1
# Souq's container image: one static binary on distroless (no shell, no
# package manager), run as a non-root user. Probes are Kubernetes' job
# (/livez, /readyz), so there is no HEALTHCHECK. Build:
#   docker build --build-arg VERSION=v1.2.3 --build-arg REVISION=$(git rev-parse HEAD) -t souq .
# The runtime base is pinned by digest (update: crane digest
# gcr.io/distroless/static-debian12:nonroot); the build stage by its exact Go
# release, which is what the binary's behaviour depends on.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
    -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
    -o /out/souq ./cmd/souq

# distroless static: CA certificates, tzdata and /etc/passwd with nonroot
# (65532); about 2 MB.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
COPY --from=build /out/souq /usr/local/bin/souq
USER 65532:65532
WORKDIR /var/lib/souq
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/souq"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--log-format", "json"]
