// Package docs_test runs the guides: every ```sh run block of a quickstart
// is executed as written, in order, on a copy of the repository, with the
// approov-gateway binary on PATH.
package docs_test

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/internal/e2e"
)

// The fixed addresses the guides use, as a reader would.
var guidePorts = []string{"127.0.0.1:8000", "127.0.0.1:8002", "127.0.0.1:9002", "127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083", "127.0.0.1:8084"}

func TestGuides(t *testing.T) {
	e2e.Require(t, "bash", "curl", "/usr/bin/gunicorn")
	bin := filepath.Dir(e2e.Binary(t))
	for _, guide := range []string{"docs/quickstart-django.md", "docs/quickstart-go.md", "docs/quickstart-message-signing.md"} {
		t.Run(filepath.Base(guide), func(t *testing.T) {
			for _, addr := range guidePorts {
				if ln, err := net.Listen("tcp", addr); err != nil {
					t.Fatalf("the guides use %s, which is taken: %v", addr, err)
				} else {
					ln.Close()
				}
			}
			work := copyRepo(t)
			script := e2e.GuideScript(t, guide)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", script)
			cmd.Dir = work
			cmd.Env = append(e2e.BaseEnv(), "PATH="+bin+":"+os.Getenv("PATH"), "PYTHONDONTWRITEBYTECODE=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", guide, err, out)
			}
			checks := strings.Count(string(out), "\nok ") + strings.Count(string(out[:min(3, len(out))]), "ok ")
			if checks == 0 {
				t.Fatalf("%s checked no status:\n%s", guide, out)
			}
			t.Logf("%s: %d statuses as the guide says", guide, checks)
		})
	}
}

// copyRepo copies the files git tracks into a temporary directory, so the
// guides can write .env files and binaries without touching the checkout.
func copyRepo(t *testing.T) string {
	t.Helper()
	root := e2e.RepoRoot()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if rel == "" {
			continue
		}
		if err := copyFile(filepath.Join(root, rel), filepath.Join(dst, rel)); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func copyFile(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return nil // deleted in the working tree but still tracked
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
