package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadKeyFile checks the permissions a key file may have, judged by the
// target of a symbolic link, and that neither errors nor warnings name the
// path.
func TestReadKeyFile(t *testing.T) {
	const content = "key material\n"
	// file writes a key file with mode and returns its path.
	file := func(t *testing.T, dir string, mode os.FileMode) string {
		p := filepath.Join(dir, "key")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // the umask does not apply
			t.Fatal(err)
		}
		return p
	}
	// link returns a symbolic link to target.
	link := func(t *testing.T, dir, target string) string {
		p := filepath.Join(dir, "link")
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    func(t *testing.T, dir string) string
		secret  bool
		err     string // the whole error, if any
		warning string // the whole warning, if any
	}{
		{name: "owner only", secret: true,
			path: func(t *testing.T, dir string) string { return file(t, dir, 0o600) }},
		{name: "owner read only", secret: true,
			path: func(t *testing.T, dir string) string { return file(t, dir, 0o400) }},
		{name: "readable by the process's own group", secret: true,
			path: func(t *testing.T, dir string) string { return file(t, dir, 0o640) }},
		{name: "world-readable secret", secret: true,
			path:    func(t *testing.T, dir string) string { return file(t, dir, 0o604) },
			warning: "secret_file: the file is readable by other users (mode 0604); 0400 or 0600 keeps the secret to its owner"},
		{name: "world-readable public key", secret: false,
			path: func(t *testing.T, dir string) string { return file(t, dir, 0o644) }},
		{name: "world-writable secret", secret: true,
			path: func(t *testing.T, dir string) string { return file(t, dir, 0o666) },
			err:  "secret_file: the file is writable by every user; make it writable by its owner only (chmod o-w)"},
		{name: "world-writable public key", secret: false,
			path: func(t *testing.T, dir string) string { return file(t, dir, 0o602) },
			err:  "secret_file: the file is writable by every user; make it writable by its owner only (chmod o-w)"},
		{name: "link to a private file", secret: true,
			path: func(t *testing.T, dir string) string { return link(t, dir, file(t, dir, 0o600)) }},
		{name: "link to a world-writable file", secret: true,
			path: func(t *testing.T, dir string) string { return link(t, dir, file(t, dir, 0o622)) },
			err:  "secret_file: the file is writable by every user; make it writable by its owner only (chmod o-w)"},
		{name: "link to a readable secret", secret: true,
			path:    func(t *testing.T, dir string) string { return link(t, dir, file(t, dir, 0o644)) },
			warning: "secret_file: the file is readable by other users (mode 0644); 0400 or 0600 keeps the secret to its owner"},
		{name: "dangling link", secret: true,
			path: func(t *testing.T, dir string) string { return link(t, dir, filepath.Join(dir, "gone")) },
			err:  "secret_file: no such file or directory"},
		{name: "missing", secret: true,
			path: func(t *testing.T, dir string) string { return filepath.Join(dir, "missing") },
			err:  "secret_file: no such file or directory"},
		{name: "directory", secret: true,
			path: func(t *testing.T, dir string) string { return dir },
			err:  "secret_file: not a regular file"},
		{name: "link to a directory", secret: true,
			path: func(t *testing.T, dir string) string { return link(t, dir, t.TempDir()) },
			err:  "secret_file: not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.path(t, dir)
			data, warning, err := ReadKeyFile("secret_file", path, tt.secret)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || data != nil {
					t.Fatalf("err = %v, data %q; want %q", err, data, tt.err)
				}
			} else if err != nil || string(data) != content {
				t.Fatalf("data %q, err %v", data, err)
			}
			if warning != tt.warning {
				t.Errorf("warning %q, want %q", warning, tt.warning)
			}
			for _, text := range []string{warning, errText(err)} {
				if strings.Contains(text, dir) {
					t.Errorf("%q names the path", text)
				}
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestExposed(t *testing.T) {
	for _, tt := range []struct {
		perm     fs.FileMode
		ownGroup bool
		want     bool
	}{
		{0o600, false, false},
		{0o400, false, false},
		{0o440, true, false}, // Kubernetes' fsGroup
		{0o440, false, true},
		{0o640, false, true},
		{0o604, true, true},
		{0o644, true, true},
	} {
		if got := exposed(tt.perm, tt.ownGroup); got != tt.want {
			t.Errorf("exposed(%04o, own group %v) = %v", tt.perm, tt.ownGroup, got)
		}
	}
}
