package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// podmanRun is how the tests run containers. runc, not Debian's default
// crun, which refuses cgroup hierarchies mixing v1 and v2 as some
// machines, this project's included, have; and resource limits below
// podman's defaults for root, which a runtime without CAP_SYS_RESOURCE
// cannot raise to.
var podmanRun = []string{"run", "--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

func podman(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("podman", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// The image deploy/image/build makes without a registry: static, uid
// 65532, no shell, answering /healthz and refusing requests without a
// token on the ports it exposes.
func TestImage(t *testing.T) {
	requirePrograms(t, "podman", "runc")
	tag := fmt.Sprintf("localhost/approov-gateway-test:%d", os.Getpid())
	build := exec.Command(repoPath("deploy", "image", "build"), tag)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("deploy/image/build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = podman(t, "rmi", "--force", tag) })

	out, err := podman(t, "image", "inspect", "--format", "{{json .Config}}", tag)
	if err != nil {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	var config struct {
		User         string
		Entrypoint   []string
		ExposedPorts map[string]struct{}
	}
	if err := json.Unmarshal([]byte(out), &config); err != nil {
		t.Fatal(err)
	}
	if config.User != "65532:65532" || !slices.Equal(config.Entrypoint, []string{"/approov-gateway", "serve"}) {
		t.Errorf("image config: user %q, entrypoint %q", config.User, config.Entrypoint)
	}
	for _, port := range []string{"8002/tcp", "9002/tcp"} {
		if _, ok := config.ExposedPorts[port]; !ok {
			t.Errorf("image config: %s not exposed", port)
		}
	}

	// No shell: nothing but the gateway can run in it.
	shell := append(slices.Clone(podmanRun), "--rm", "--entrypoint", "/bin/sh", tag, "-c", "true")
	if out, err := podman(t, shell...); err == nil || !strings.Contains(out, "/bin/sh") {
		t.Errorf("/bin/sh in the image ran, or failed for another reason: %v\n%s", err, out)
	}

	name := fmt.Sprintf("approov-gateway-test-%d", os.Getpid())
	run := append(slices.Clone(podmanRun), "--detach", "--name", name,
		"--publish", "127.0.0.1::8002", "--publish", "127.0.0.1::9002",
		"--env", "APPROOV_BASE64_SECRET="+randomKey(t, 64),
		"--env", "APPROOV_UPSTREAM=http://127.0.0.1:9",
		tag)
	if out, err := podman(t, run...); err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := podman(t, "logs", name)
			t.Logf("output of the container:\n%s", logs)
		}
		_, _ = podman(t, "rm", "--force", "--time", "0", name)
	})
	address := func(port string) string {
		out, err := podman(t, "port", name, port)
		if err != nil || !strings.HasPrefix(out, "127.0.0.1:") {
			t.Fatalf("podman port %s: %v\n%s", port, err, out)
		}
		return "http://" + out
	}
	admin, api := address("9002/tcp"), address("8002/tcp")
	waitHTTP(t, nil, admin+"/healthz", 200, 30*time.Second)
	waitHTTP(t, nil, admin+"/readyz", 200, 5*time.Second)
	waitHTTP(t, nil, api+"/", 401, 5*time.Second)

	// The process runs as the image's user, whatever the image says.
	pid, err := podman(t, "inspect", "--format", "{{.State.Pid}}", name)
	if err != nil {
		t.Fatalf("podman inspect: %v\n%s", err, pid)
	}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if ids, ok := strings.CutPrefix(line, "Uid:"); ok && !slices.Equal(strings.Fields(ids), []string{"65532", "65532", "65532", "65532"}) {
			t.Errorf("the gateway runs as uid %s, want 65532", strings.TrimSpace(ids))
		}
	}
}
