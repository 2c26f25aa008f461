package cli

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// demoRequest is one curl command the demo prints, and the status it says
// the request gets.
type demoRequest struct {
	title   string
	status  int
	url     string
	headers []string
}

var (
	demoTitle  = regexp.MustCompile(`^# \d+\. (.+): expect (\d{3})$`)
	demoHeader = regexp.MustCompile(` -H '([^']*)'`)
	demoURL    = regexp.MustCompile(` (http://\S+)$`)
)

// parseDemo reads the curl commands from the demo's instructions.
func parseDemo(t *testing.T, out string) []demoRequest {
	t.Helper()
	var reqs []demoRequest
	lines := strings.Split(out, "\n")
	for i := 0; i+1 < len(lines); i++ {
		m := demoTitle.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		curl := lines[i+1]
		u := demoURL.FindStringSubmatch(curl)
		if !strings.HasPrefix(curl, "curl -i") || u == nil {
			t.Fatalf("%q is not followed by a curl command: %q", lines[i], curl)
		}
		status, _ := strconv.Atoi(m[2])
		r := demoRequest{title: m[1], status: status, url: u[1]}
		for _, h := range demoHeader.FindAllStringSubmatch(curl, -1) {
			r.headers = append(r.headers, h[1])
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// TestDemo runs the demo and sends every request it suggests, each of
// which must get the status the demo promises.
func TestDemo(t *testing.T) {
	tests := []struct {
		name  string
		admin string
		env   bool // the secret comes from APPROOV_BASE64_SECRET
	}{
		{"fresh secret, admin off", "off", false},
		{"secret from the environment, admin on", "127.0.0.1:0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			secret, b64 := newSecret()
			if tt.env {
				t.Setenv("APPROOV_BASE64_SECRET", b64)
			}
			r := start(t, "demo", "--listen", "127.0.0.1:0", "--admin-listen", tt.admin)
			out := r.waitStdout("Press Ctrl-C to stop.\n")

			m := regexp.MustCompile(`^approov-gateway demo: the gateway listens on (http://127\.0\.0\.1:\d+),`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no address in\n%s", out)
			}
			base := m[1]
			reqs := parseDemo(t, out)
			if len(reqs) != 8 {
				t.Fatalf("%d requests in\n%s", len(reqs), out)
			}
			for _, req := range reqs {
				if !strings.HasPrefix(req.url, base+"/") {
					t.Errorf("%s: URL %s not on %s", req.title, req.url, base)
				}
				if status, body := get(t, req.url, req.headers...); status != req.status {
					t.Errorf("%s: status %d, the demo says %d (%s)", req.title, status, req.status, body)
				}
			}
			if status, body := get(t, reqs[0].url, reqs[0].headers...); body != "{\"message\":\"Hello, World!\"}\n" {
				t.Errorf("hello API: %d %q", status, body)
			}
			// The facts the gateway forwards reach the hello API, signed.
			if _, body := get(t, base+"/device", reqs[0].headers...); !strings.Contains(body, `"device_id":"demo-device-1"`) {
				t.Errorf("/device: %s", body)
			}

			if tt.env {
				if !strings.Contains(out, "Secret: from APPROOV_BASE64_SECRET.\n") || strings.Contains(out, b64) {
					t.Errorf("the demo shows a secret from the environment:\n%s", out)
				}
				if code, stdout, _ := run(t, "", "token", "check", "--secret", b64, strings.TrimPrefix(reqs[0].headers[0], "Approov-Token: ")); code != 0 {
					t.Errorf("the demo's token is not signed with the environment's secret:\n%s", stdout)
				}
			} else {
				sm := regexp.MustCompile(`(?m)^Secret \(freshly generated, base64\): (\S+)$`).FindStringSubmatch(out)
				if sm == nil || sm[1] == b64 || !strings.Contains(out, "APPROOV_BASE64_SECRET="+sm[1]+" approov-gateway token gen") {
					t.Fatalf("no fresh secret in\n%s", out)
				}
				// The printed secret is the one the gateway uses.
				if code, stdout, _ := run(t, "", "token", "check", "--secret", sm[1], strings.TrimPrefix(reqs[0].headers[0], "Approov-Token: ")); code != 0 {
					t.Errorf("the demo's token does not verify with the printed secret:\n%s", stdout)
				}
				if status, _ := get(t, base+"/", "Approov-Token: "+sign(t, secret, "d")); status != 401 {
					t.Errorf("a token of another secret: %d", status)
				}
			}

			admin := regexp.MustCompile(`(?m)^Health and metrics: curl http://(\S+)/readyz ; curl http://(\S+)/metrics$`).FindStringSubmatch(out)
			switch {
			case tt.admin == "off" && admin != nil:
				t.Errorf("admin endpoints printed while off:\n%s", out)
			case tt.admin != "off" && admin == nil:
				t.Errorf("no admin endpoints in\n%s", out)
			case admin != nil:
				if status, _ := get(t, "http://"+admin[1]+"/readyz"); status != 200 {
					t.Errorf("readyz: %d", status)
				}
			}

			if code := r.stop(); code != 0 {
				t.Errorf("exit status %d, want 0\nstderr:\n%s", code, r.stderr.String())
			}
			if !r.stopped {
				t.Error("demo did not release its signals")
			}
		})
	}
}

// TestDemoFailures: bad flags and configuration are usage errors (2); an
// address in use is a failure to run (1) that says how to choose another.
func TestDemoFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name   string
		env    string
		args   []string
		code   int
		stderr string // a line of the output
	}{
		{"unknown flag", "", []string{"--frobnicate"}, 2, "approov-gateway demo: unknown flag --frobnicate (see approov-gateway help demo)\n"},
		{"typo of a flag", "", []string{"--listn", "127.0.0.1:1"}, 2, "approov-gateway demo: unknown flag --listn (did you mean --listen?)\n"},
		{"argument", "", []string{"now"}, 2, "approov-gateway demo: unexpected argument \"now\" (see approov-gateway help demo)\n"},
		{"bad secret", "APPROOV_BASE64_SECRET=" + leak, nil, 2, "approov-gateway demo: APPROOV_BASE64_SECRET: secret is neither base64 nor base64url"},
		{"bad address", "", []string{"--listen", leak, "--admin-listen", "off"}, 2, "approov-gateway: listen: want host:port, such as 127.0.0.1:8002"},
		{"same address twice", "", []string{"--listen", "127.0.0.1:8002", "--admin-listen", "127.0.0.1:8002"}, 2,
			"approov-gateway: admin_listen and listen have the same address; each listener needs its own"},
		{"address in use", "", []string{"--listen", busy.Addr().String(), "--admin-listen", "off"}, 1,
			"approov-gateway demo: listen: listen tcp " + busy.Addr().String() + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			if tt.env != "" {
				name, value, _ := strings.Cut(tt.env, "=")
				t.Setenv(name, value)
			}
			code, stdout, stderr := run(t, "", append([]string{"demo"}, tt.args...)...)
			if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("status %d, stdout %q, stderr %q; want status %d and %q", code, stdout, stderr, tt.code, tt.stderr)
			}
			if tt.code == 1 && !strings.Contains(stderr, "(choose another with --listen or --admin-listen)") {
				t.Errorf("stderr %q does not say what to do", stderr)
			}
			if strings.Contains(stderr, leak) {
				t.Errorf("stderr repeats a value: %q", stderr)
			}
		})
	}
}
