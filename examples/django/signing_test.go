package django_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/internal/e2e"
	"github.com/approov-gateway/approov/msgsig"
)

// TestMessageSigning runs the gateway binary in front of Django under
// gunicorn with message signing on, and sends requests signed as the
// Approov SDK signs them: install signatures (the token's ipk) and account
// signatures (the account key, the token's mskid), in both forms of the
// Signature field, with and without a body; then every change an attacker
// could make to a signed request.
func TestMessageSigning(t *testing.T) {
	accountKey := []byte("end-to-end account message signing key: 48 bytes")
	django := e2e.FreeAddr(t)
	startDjango(t, "hello.settings", django)
	gw := startGateway(t, "upstream: http://"+django+"\n",
		"APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64="+base64.StdEncoding.EncodeToString(accountKey),
		"APPROOV_TRUSTED_PROXIES=127.0.0.1")
	base := gw.URL()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ipk, _ := msgsig.InstallationPublicKey(&key.PublicKey)
	install := func(opts ...msgsig.SignerOption) *msgsig.Signer {
		s, err := msgsig.NewInstallSigner(key, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	account, err := msgsig.NewAccountSigner(accountKey, msgsig.WithForm(msgsig.FormString))
	if err != nil {
		t.Fatal(err)
	}
	const auth = "Bearer alice"
	installTok := sign(t, map[string]any{"did": "phone-1", "ipk": ipk, "pay": approov.PayloadHash(auth)})
	accountTok := sign(t, map[string]any{"did": "phone-2", "mskid": "account-1"})

	// request is a request as the SDK makes it: headers, the signature of
	// signer over the SDK's default components for uri, and a body.
	type request struct {
		method, target string
		header         http.Header
		body           string
	}
	signed := func(s *msgsig.Signer, method, uri, tok, body string) request {
		h := http.Header{"Approov-Token": {tok}, "Authorization": {auth}}
		if body != "" {
			h.Set("Content-Type", "application/octet-stream")
			h.Set("Content-Length", strconv.Itoa(len(body)))
			h.Set("Content-Digest", msgsig.ContentDigest([]byte(body)))
		}
		sig, err := s.Sign(&msgsig.Request{Method: method, TargetURI: uri, Header: h}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sig.AddTo(h)
		target := strings.TrimPrefix(strings.TrimPrefix(uri, base), "https://api.example.com")
		return request{method, target, h, body}
	}
	change := func(r request, f func(*request)) request {
		r.header = r.header.Clone()
		f(&r)
		return r
	}
	photo := strings.Repeat("JPEG", 50000) // 200 KB: spooled, not kept in memory
	getInstall := signed(install(), "GET", base+"/whoami?x=1", installTok, "")
	postInstall := signed(install(), "POST", base+"/upload", installTok, photo)
	behindProxy := signed(install(), "GET", "https://api.example.com/whoami", installTok, "")
	behindProxy.header.Set("X-Forwarded-Proto", "https")
	behindProxy.header.Set("X-Forwarded-Host", "api.example.com")

	for _, tc := range []struct {
		name   string
		req    request
		status int
		reason string // in the gateway's log, for refusals
	}{
		{"install, GET", getInstall, 200, ""},
		{"install, string form", signed(install(msgsig.WithForm(msgsig.FormString)), "GET", base+"/whoami", installTok, ""), 200, ""},
		{"install, POST with a body", postInstall, 200, ""},
		{"account, GET", signed(account, "GET", base+"/whoami", accountTok, ""), 200, ""},
		{"account, POST with a body", signed(account, "POST", base+"/upload", accountTok, "form=1"), 200, ""},
		{"behind a trusted proxy, https", behindProxy, 200, ""},

		{"ipk token, no signature", request{"GET", "/whoami", http.Header{"Approov-Token": {installTok}, "Authorization": {auth}}, ""}, 401, "signature_missing"},
		{"another method", change(getInstall, func(r *request) { r.method = "DELETE" }), 401, "signature_invalid"},
		{"another path", change(getInstall, func(r *request) { r.target = "/stream?x=1" }), 401, "signature_invalid"},
		{"another query", change(getInstall, func(r *request) { r.target = "/whoami?x=2" }), 401, "signature_invalid"},
		{"another token", change(getInstall, func(r *request) {
			r.header.Set("Approov-Token", sign(t, map[string]any{"did": "phone-9", "ipk": ipk, "pay": approov.PayloadHash(auth)}))
		}), 401, "signature_invalid"},
		{"another Authorization", change(getInstall, func(r *request) { r.header.Set("Authorization", "Bearer mallory") }), 401, "signature_invalid"},
		{"another body", change(postInstall, func(r *request) { r.body = strings.Repeat("JPEG", 49999) + "PNG!" }), 401, "content_digest_mismatch"},
		{"another Content-Digest", change(postInstall, func(r *request) {
			r.body = "evil"
			r.header.Set("Content-Length", "4")
			r.header.Set("Content-Digest", msgsig.ContentDigest([]byte("evil")))
		}), 401, "signature_invalid"},
		{"created an hour ago", signed(install(msgsig.WithClock(func() time.Time { return time.Now().Add(-time.Hour) })), "GET", base+"/whoami", installTok, ""), 401, "signature_expired"},
		{"created in an hour", signed(install(msgsig.WithClock(func() time.Time { return time.Now().Add(time.Hour) })), "GET", base+"/whoami", installTok, ""), 401, "signature_not_yet_valid"},
		{"mskid not checked without a configured key id", signed(account, "GET", base+"/whoami", sign(t, map[string]any{"mskid": "other"}), ""), 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			header := r.header.Clone()
			if header.Get("Content-Length") == "" {
				header.Set("Content-Length", strconv.Itoa(len(r.body)))
			}
			var pairs [][2]string
			for k, vs := range header {
				for _, v := range vs {
					pairs = append(pairs, [2]string{k, v})
				}
			}
			pairs = append(pairs, [2]string{"Host", gw.Addr})
			logged := `"reason":"` + tc.reason + `"`
			before := strings.Count(gw.Output(), logged)
			status, body := rawRequestBody(t, gw.Addr, r.method, r.target, pairs, r.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.status == 200 && r.method == "POST" {
				var up struct{ Bytes int }
				json.Unmarshal([]byte(body), &up)
				if up.Bytes != len(r.body) {
					t.Fatalf("Django got %d bytes of %d", up.Bytes, len(r.body))
				}
			}
			if tc.reason != "" {
				// This request's own log line, not an earlier one's.
				deadline := time.Now().Add(5 * time.Second)
				for strings.Count(gw.Output(), logged) == before {
					if time.Now().After(deadline) {
						t.Fatalf("no log line with %s", logged)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	for _, secret := range []string{installTok, accountTok, base64.StdEncoding.EncodeToString(accountKey)} {
		if strings.Contains(gw.Output(), secret) {
			t.Error("the gateway's log shows a token or the account key")
		}
	}
}

// rawRequestBody sends a request exactly as given, with a body, and returns
// status and body.
func rawRequestBody(t *testing.T, addr, method, target string, header [][2]string, body string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\n")
	for _, h := range header {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(data))
}

// TestMessageSigningBehindFronts: message signatures checked in forward-auth
// mode, through each documented front proxy, which pass the check the
// original host, scheme and Content-Length (the body itself stays with the
// proxy).
func TestMessageSigningBehindFronts(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ipk, _ := msgsig.InstallationPublicKey(&key.PublicKey)
	signer, _ := msgsig.NewInstallSigner(key)
	tok := sign(t, map[string]any{"did": "phone-1", "ipk": ipk})
	for i, front := range fronts {
		t.Run(front.name, func(t *testing.T) {
			base, _ := startFront(t, i, "hello.settings")
			addr := strings.TrimPrefix(base, "http://")
			send := func(method, target, body string, sign bool) int {
				h := http.Header{"Approov-Token": {tok}}
				if body != "" {
					h.Set("Content-Type", "text/plain")
					h.Set("Content-Length", strconv.Itoa(len(body)))
					h.Set("Content-Digest", msgsig.ContentDigest([]byte(body)))
				}
				if sign {
					sig, err := signer.Sign(&msgsig.Request{Method: method, TargetURI: base + target, Header: h}, nil)
					if err != nil {
						t.Fatal(err)
					}
					sig.AddTo(h)
				}
				pairs := [][2]string{{"Host", addr}}
				for k, vs := range h {
					for _, v := range vs {
						pairs = append(pairs, [2]string{k, v})
					}
				}
				status, _ := rawRequestBody(t, addr, method, target, pairs, body)
				return status
			}
			if s := send("GET", "/whoami?x=1", "", true); s != 200 {
				t.Errorf("signed GET: %d", s)
			}
			if s := send("POST", "/upload", "a signed body", true); s != 200 {
				t.Errorf("signed POST: %d", s)
			}
			if s := send("GET", "/whoami?x=1", "", false); s != 401 {
				t.Errorf("token with ipk, no signature: %d", s)
			}
		})
	}
}
