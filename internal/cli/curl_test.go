package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/internal/e2e"
	"github.com/approov-gateway/approov/msgsig"
)

// TestSignCurl runs the curl command sign prints, parsed as a shell would
// parse it, against a server that verifies it with msgsig; and, with
// APPROOV_E2E=1, pasted into bash with the real curl.
func TestSignCurl(t *testing.T) {
	e2eSwitch, switched := os.LookupEnv("APPROOV_E2E")
	s := newSigning(t)
	if switched {
		t.Setenv("APPROOV_E2E", e2eSwitch) // isolate cleared it
	}
	tok := s.token(t, "--ipk", "device.pem", "--mskid", "k")
	srv := httptest.NewServer(s.handler())
	t.Cleanup(srv.Close)
	binary := []byte("\x00\x01 it's\n\xff@")
	writeFile(t, "body.bin", string(binary), 0o600)
	writeFile(t, "it's a body", "from a file with a quote in its name", 0o600)

	tests := []struct {
		name   string
		method string
		path   string
		flags  []string
		body   string // what the server must receive
	}{
		{"GET", "GET", "/v1/items?q=a+b&r=%20", nil, ""},
		{"quotes everywhere", "POST", "/v1/it's?name=o'brien", []string{"--header", "X-Note: it's 'quoted' $HOME `x` \"y\"", "--data", "{\"a\": \"it's\"}\n$(echo no)\n"}, "{\"a\": \"it's\"}\n$(echo no)\n"},
		{"a body starting with @", "PUT", "/v1/x", []string{"--data", "@body.bin"}, "@body.bin"},
		{"a binary body from a file", "POST", "/upload", []string{"--data-file", "body.bin", "--header", "Content-Type: application/octet-stream"}, string(binary)},
		{"a file name with a quote", "POST", "/upload", []string{"--data-file", "it's a body"}, "from a file with a quote in its name"},
		{"GET with a body", "GET", "/search", []string{"--data", "q=1"}, "q=1"},
		{"HEAD", "HEAD", "/v1/x", nil, ""},
		{"DELETE", "DELETE", "/v1/x/1", nil, ""},
		{"an empty header", "GET", "/v1/x", []string{"--header", "X-Empty:", "--components", "@method,@target-uri,approov-token,x-empty"}, ""},
		{"dot segments and brackets", "GET", "/a/./b/../c?q=[1]&r={x}", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"sign", "--curl", "--install-key", "device.pem", "--account-key", s.accountB64,
				"--header", "Approov-Token: " + tok}, tt.flags...)
			code, stdout, stderr := run(t, "", append(args, tt.method, srv.URL+tt.path)...)
			if code != 0 || stderr != "" {
				t.Fatalf("sign: status %d, stderr %q", code, stderr)
			}
			words, err := shellWords(stdout)
			if err != nil {
				t.Fatalf("%v in\n%s", err, stdout)
			}
			status, got := sendCurl(t, words)
			if status != http.StatusOK || tt.method != "HEAD" && got != tt.body {
				t.Fatalf("status %d, body %q (want %q); command:\n%s", status, got, tt.body, stdout)
			}
			t.Run("bash and curl", func(t *testing.T) { runCurl(t, stdout, tt.method, tt.body) })
		})
	}
}

// TestSignThroughServe sends what sign prints to serve, run in process
// with message signing at its default, auto: the gateway accepts it, and
// refuses it once the body or the URL differs from what was signed.
func TestSignThroughServe(t *testing.T) {
	s := newSigning(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}))
	t.Cleanup(backend.Close)
	writeFile(t, ".env", "APPROOV_BASE64_SECRET="+s.secretB64+"\nAPPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL="+s.accountB64+"\n", 0o600)
	t.Setenv("APPROOV_UPSTREAM", backend.URL)
	t.Setenv("APPROOV_LISTEN", "127.0.0.1:0")
	t.Setenv("APPROOV_ADMIN_LISTEN", "off")
	r := start(t, "serve")
	base := "http://" + r.logLine("serving", 1)["listen"].(string)

	install, account := s.token(t, "--ipk", "device.pem"), s.token(t, "--mskid", "k")
	tests := []struct {
		name string
		args []string
	}{
		{"install, a body", []string{"--install-key", "device.pem", "--header", "Approov-Token: " + install, "--data", "{\"n\": \"it's\"}", "POST"}},
		{"install, string form", []string{"--install-key", "device.pem", "--header", "Approov-Token: " + install, "--form", "string", "--data", "x", "PUT"}},
		{"account, from .env", []string{"--header", "Approov-Token: " + account, "--data", "y", "POST"}},
	}
	rejected := 0 // log lines of refused signatures so far
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", append(append([]string{"sign", "--curl"}, tt.args...), base+"/v1/orders?id=7")...)
			if code != 0 || stderr != "" {
				t.Fatalf("sign: status %d, stderr %q", code, stderr)
			}
			words := must(shellWords(stdout))
			body := words[len(words)-2]
			if status, got := sendCurl(t, words); status != http.StatusOK || got != body {
				t.Fatalf("status %d, body %q; want 200 and %q", status, got, body)
			}
			// What changed is the reason the gateway logs.
			url := words[len(words)-1]
			for _, c := range []struct {
				reason string
				at     int // the word changed
				value  string
			}{
				{"content_digest_mismatch", len(words) - 2, body + "!"},
				{"signature_invalid", len(words) - 1, strings.Replace(url, "id=7", "id=8", 1)},
			} {
				changed := slices.Clone(words)
				changed[c.at] = c.value
				if status, _ := sendCurl(t, changed); status != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401", c.reason, status)
				}
				rejected++
				if line := r.logLine("approov message signature rejected", rejected); line["reason"] != c.reason {
					t.Errorf("rejected with %v, want %s", line["reason"], c.reason)
				}
			}
		})
	}
}

// handler verifies each request as the gateway does and answers 200 with
// the body it received, or 401 with why not.
func (s *signing) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		uri, err := msgsig.TargetURI("http", r.Host, r.RequestURI)
		if err == nil {
			_, err = s.verify(r.Method, uri, r.Header, body)
		}
		if err != nil {
			w.Header().Set("X-Reason", msgsig.Reason(err)+" "+approov.Reason(err))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write(body)
	})
}

// shellWords splits a command line as a POSIX shell does for the quoting
// sign uses: single quotes, backslash escapes and line continuations.
// Any other character a shell would interpret, unquoted, is an error: the
// command would not mean what it says.
func shellWords(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '\\':
			if i++; i == len(s) {
				return nil, errors.New("backslash at the end")
			}
			if s[i] != '\n' {
				word.WriteByte(s[i])
				inWord = true
			}
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case strings.IndexByte("\"$`;&|<>()*?[]{}~#!=\x00", c) >= 0:
			return nil, fmt.Errorf("unquoted %q", c)
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// sendCurl sends the request the curl arguments describe, reading them as
// curl does, and returns the status and body of the answer.
func sendCurl(t *testing.T, words []string) (int, string) {
	t.Helper()
	if len(words) < 2 || words[0] != "curl" {
		t.Fatalf("not a curl command: %q", words)
	}
	method, header, url := "", http.Header{}, words[len(words)-1]
	var body io.Reader
	for i := 1; i < len(words)-1; i++ {
		arg := func() string {
			if i++; i == len(words)-1 {
				t.Fatalf("%s without its argument", words[i-1])
			}
			return words[i]
		}
		switch w := words[i]; w {
		case "-i", "--globoff", "--path-as-is":
		case "--head":
			method = "HEAD"
		case "-X":
			method = arg()
		case "-H":
			h := arg()
			if name, ok := strings.CutSuffix(h, ";"); ok && !strings.Contains(h, ":") {
				header[name] = append(header[name], "")
				break
			}
			name, value, ok := strings.Cut(h, ":")
			if !ok {
				t.Fatalf("-H %q", h)
			}
			header.Add(name, strings.TrimLeft(value, " "))
		case "--data-binary":
			d := arg()
			if file, ok := strings.CutPrefix(d, "@"); ok {
				body = bytes.NewReader(must(os.ReadFile(file)))
			} else {
				body = strings.NewReader(d)
			}
		case "--data-raw":
			body = strings.NewReader(arg())
		default:
			t.Fatalf("curl argument %q is not one sign writes", w)
		}
	}
	if method == "" {
		method = map[bool]string{true: "POST", false: "GET"}[body != nil]
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if reason := resp.Header.Get("X-Reason"); reason != "" {
		t.Logf("refused: %s", reason)
	}
	return resp.StatusCode, string(got)
}

// runCurl pastes the command into bash, which runs the real curl.
func runCurl(t *testing.T, command, method, body string) {
	e2e.Require(t, "bash", "curl")
	cmd := exec.Command("bash", "-c", command)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	head, got, _ := strings.Cut(string(out), "\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.1 200 ") || method != "HEAD" && got != body {
		t.Fatalf("curl got\n%s\nwant 200 and the body %q", out, body)
	}
}

// TestShellQuote: what shellQuote writes, a shell reads back unchanged.
func TestShellQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "-H", "it's", "''", "a b", "$HOME", "`x`", "\"q\"", "a\nb", "~", "=x", "*", "@file", "x;y", "\\", "é"} {
		words, err := shellWords(shellQuote(s))
		if err != nil || len(words) != 1 || words[0] != s {
			t.Errorf("shellQuote(%q) = %s, read back as %q, %v", s, shellQuote(s), words, err)
		}
	}
}
