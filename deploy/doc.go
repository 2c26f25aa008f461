// Package deploy tests the deployment files of approov-gateway: the
// Dockerfile and the image it builds, compose.yaml, the systemd unit, the
// Kubernetes manifests and .env.example. It has no code of its own, and is
// a module of its own so that users of the approov library never download
// the Kubernetes API types its tests decode the manifests into.
//
// The settings the files name are checked against the settings table of
// docs/CONFIGURATION.md, which is generated from the gateway's one table of
// settings (this module cannot import the gateway's internal packages).
//
// The tests that only read the files need Go alone. Those that run real
// programs — the gateway checking each file's configuration, nginx, gunicorn
// and the gateway wired as compose.yaml wires them, systemd-analyze on the
// unit, podman building and running the image — run when APPROOV_E2E=1,
// which scripts/test sets after installing those programs, and then a
// missing one fails the test, never skips it.
package deploy
