package main_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestTokenGenRoundTrip: every token `token gen` makes is accepted by the
// gateway and by PyJWT (Debian's python3-jwt) with the same secret.
func TestTokenGenRoundTrip(t *testing.T) {
	e2e.Require(t, "/usr/bin/python3")
	b := newBackend(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", "routes:\n  - match: /bound/\n    mode: binding\n    binding_headers: [Authorization]\n")
	gw := e2e.StartGateway(t, dir, gatewayEnv(b, "APPROOV_CONFIG=gateway.yaml"))
	env := []string{"APPROOV_BASE64_SECRET=" + secretB64}
	future := fmt.Sprintf("%d.123456", time.Now().Add(2*time.Hour).Unix())

	type genCase struct {
		args []string
		auth string // Authorization for bound tokens
	}
	cases := []genCase{
		{args: nil},
		{args: []string{"--did", "ExampleApproovTokenDID==", "--ip", "1.2.3.4"}},
		{args: []string{"--exp", "10m"}},
		{args: []string{"--exp", future}},
		{args: []string{"--kid", "key-1", "--claim", "arc=RVhBTVBMRQ==", "--claim", `aud_note={"x":[1,2]}`}},
		{args: []string{"--bind", "Bearer user-1"}, auth: "Bearer user-1"},
		{args: []string{"--bind", "Bearer user-2", "--did", "d"}, auth: "Bearer user-2"},
	}
	var tokens []string
	for _, c := range cases {
		code, stdout, stderr := e2e.Run(t, "", env, append([]string{"token", "gen"}, c.args...)...)
		if code != 0 || stderr != "" {
			t.Fatalf("token gen %v: exit %d: %s", c.args, code, stderr)
		}
		token := strings.TrimSpace(stdout)
		tokens = append(tokens, token)
		path, h := "/", http.Header{"Approov-Token": {token}}
		if c.auth != "" {
			path = "/bound/x"
			h.Set("Authorization", c.auth)
		}
		if r := request(t, "GET", gw.URL()+path, h); r.status != 200 {
			t.Errorf("gateway rejected the token of token gen %v: %d", c.args, r.status)
		}
	}

	script := `
import base64, sys, jwt
secret = base64.b64decode(sys.argv[1])
for token in sys.stdin.read().split():
    jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
print("all accepted")
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, secretB64)
	cmd.Stdin = strings.NewReader(strings.Join(tokens, "\n"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "all accepted" {
		t.Fatalf("PyJWT: %v\n%s", err, out)
	}
}

// TestDemo: the README's first command prints curl commands that, pasted
// into a shell, get the statuses it promises.
func TestDemo(t *testing.T) {
	e2e.Require(t, "curl", "bash")
	listen, admin := e2e.FreeAddr(t), e2e.FreeAddr(t)
	p := e2e.Start(t, t.TempDir(), nil, e2e.Binary(t), "demo", "--listen", listen, "--admin-listen", admin)
	p.WaitOutput(t, "Press Ctrl-C to stop.", 15*time.Second)

	expect := regexp.MustCompile(`^# \d+\. (.*): expect (\d{3})$`)
	status := regexp.MustCompile(`^HTTP/1\.1 (\d{3})`)
	sc := bufio.NewScanner(strings.NewReader(p.Output()))
	checked := 0
	for sc.Scan() {
		m := expect.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if !sc.Scan() || !strings.HasPrefix(sc.Text(), "curl ") {
			t.Fatalf("no curl command after %q", m[0])
		}
		command := sc.Text()
		// As pasted into a shell: curl's progress meter goes to stderr,
		// the response to stdout.
		out, err := exec.Command("bash", "-c", command).Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", command, err, out)
		}
		got := status.FindStringSubmatch(string(out))
		if got == nil || got[1] != m[2] {
			t.Errorf("%s: got %q, the demo promised %s", m[1], firstLine(string(out)), m[2])
		}
		if m[1] == "The facts the gateway forwards to the API" && !strings.Contains(string(out), `"device_id":"demo-device-1"`) {
			t.Errorf("forwarded facts missing from the hello API's answer:\n%s", out)
		}
		checked++
	}
	if checked < 8 {
		t.Fatalf("checked %d commands; the demo printed fewer than the 8 it should:\n%s", checked, p.Output())
	}
	if !strings.Contains(p.Output(), "curl http://"+admin+"/metrics") {
		t.Error("the demo does not point at its metrics")
	}
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("demo exit status %d after SIGTERM", code)
	}
	if !t.Failed() {
		t.Logf("%d demo commands gave the statuses they promised", checked)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// TestDemoWithoutAdmin: --admin-listen off used to crash the demo on a nil
// listener before it served anything.
func TestDemoWithoutAdmin(t *testing.T) {
	listen := e2e.FreeAddr(t)
	p := e2e.Start(t, t.TempDir(), nil, e2e.Binary(t), "demo", "--listen", listen, "--admin-listen", "off")
	p.WaitOutput(t, "Press Ctrl-C to stop.", 15*time.Second)
	if strings.Contains(p.Output(), "/metrics") {
		t.Errorf("the demo points at metrics it does not serve:\n%s", p.Output())
	}
	if r := request(t, "GET", "http://"+listen+"/", nil); r.status != 401 {
		t.Errorf("demo without admin: %d", r.status)
	}
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, p.Output())
	}
}
