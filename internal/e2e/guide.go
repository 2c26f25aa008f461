package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Guides mark their code blocks for tests with the fence's info string:
//
//	```sh run          commands a test runs, in order, in one bash session
//	```nginx tested    a configuration a test fills in and runs (see Block)
//
// In a run block, a line ending in " &" starts a background process, which
// is stopped when the guide ends; a line with "# expect NNN" must print an
// HTTP status line with that code (curl -i). Any other failing command
// fails the guide. The runner waits for nothing and retries nothing: a
// guide waits for the servers it starts and for its reloads itself, in
// commands a reader pastes too, so that it fails here where it would fail
// for a person.

var expectRe = regexp.MustCompile(`#\s*expect\s+(\d{3})\s*$`)

// blocks returns the code blocks of the markdown file whose info string is
// info, in order.
func blocks(t testing.TB, file, info string) []string {
	t.Helper()
	found, err := readBlocks(file, info)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// readBlocks returns the code blocks of file, a path from the repository
// root, whose info string is info; none is an error.
func readBlocks(file, info string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), file))
	if err != nil {
		return nil, err
	}
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```"+info:
			cur = &strings.Builder{}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
			cur.WriteByte('\n')
		}
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%s has no ```%s block", file, info)
	}
	return blocks, nil
}

// Block returns the one code block of file tagged info.
func Block(t testing.TB, file, info string) string {
	t.Helper()
	blocks := blocks(t, file, info)
	if len(blocks) != 1 {
		t.Fatalf("%s has %d ```%s blocks, want 1", file, len(blocks), info)
	}
	return blocks[0]
}

// GuideScript turns the run blocks of a guide into one bash script.
func GuideScript(t testing.TB, file string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`set -euo pipefail
__pids=()
trap 'for p in "${__pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
__expect() {
  local want=$1 cmd=$2 out status
  set +e; out=$(eval "$cmd" 2>&1); set -e
  status=$(printf '%s\n' "$out" | sed -n 's#^HTTP/[0-9.]* \([0-9][0-9][0-9]\).*#\1#p' | head -1)
  if [ "$status" != "$want" ]; then
    printf 'GUIDE FAILED: %s\n  got status %s, the guide says %s\n%s\n' "$cmd" "${status:-none}" "$want" "$out" >&2
    exit 1
  fi
  printf 'ok %s  %s\n' "$want" "$cmd"
}
`)
	for i, block := range blocks(t, file, "sh run") {
		fmt.Fprintf(&b, "\n# --- block %d\n", i+1)
		for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
			trimmed := strings.TrimSpace(line)
			switch {
			case expectRe.MatchString(line):
				want := expectRe.FindStringSubmatch(line)[1]
				cmd := strings.TrimSpace(expectRe.ReplaceAllString(line, ""))
				fmt.Fprintf(&b, "__expect %s %s\n", want, shellQuote(cmd))
			case strings.HasSuffix(trimmed, " &") || strings.HasSuffix(trimmed, "&") && !strings.HasSuffix(trimmed, "&&"):
				fmt.Fprintf(&b, "%s\n__pids+=($!)\n", line)
			default:
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// FrontConfig returns the tested configuration block of
// docs/quickstart-nginx.md tagged info ("nginx tested", "caddyfile
// tested"), with the guide's addresses — Django 127.0.0.1:8000, the gateway
// 127.0.0.1:8002, the front 127.0.0.1:8080 — replaced by the given ones.
func FrontConfig(info, django, gateway, listen string) (string, error) {
	blocks, err := readBlocks("docs/quickstart-nginx.md", info)
	if err != nil {
		return "", err
	}
	out := strings.NewReplacer("127.0.0.1:8000", django, "127.0.0.1:8002", gateway, "127.0.0.1:8080", listen).Replace(blocks[0])
	for _, addr := range []string{django, gateway, listen} {
		if !strings.Contains(out, addr) {
			return "", fmt.Errorf("the %s block of docs/quickstart-nginx.md no longer uses the addresses to replace", info)
		}
	}
	return out, nil
}

// NginxConf wraps an http-level block, such as the guide's, into a whole
// nginx.conf that runs in the foreground and keeps every file under dir.
func NginxConf(dir, httpBlock string) string {
	return fmt.Sprintf(`worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, httpBlock)
}
