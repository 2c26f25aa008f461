package gateway

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/msgsig"
)

// installApp is a stand-in for an app installation: its install key, and
// tokens that name it in ipk.
type installApp struct {
	key    *ecdsa.PrivateKey
	signer *msgsig.Signer
	ipk    string
}

func newInstallApp(t testing.TB) *installApp {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := msgsig.NewInstallSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	ipk, err := msgsig.InstallationPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &installApp{key, signer, ipk}
}

// signedHeaders returns header with what the SDK adds to a request to
// targetURI with body: Content-Length and Content-Digest for a body, then
// the signature of signer over its default components.
func signedHeaders(t testing.TB, signer *msgsig.Signer, method, targetURI string, header http.Header, body string) http.Header {
	t.Helper()
	h := header.Clone()
	if body != "" {
		h.Set("Content-Length", itoa(len(body)))
		h.Set("Content-Digest", msgsig.ContentDigest([]byte(body)))
	}
	sig, err := signer.Sign(&msgsig.Request{Method: method, TargetURI: targetURI, Header: h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig.AddTo(h)
	return h
}

func itoa(n int) string { return strconv.Itoa(n) }

// postRaw sends a request with a body through a real connection.
func postRaw(t testing.TB, addr, method, target string, header http.Header, body string) response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	for k, vs := range header {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	if header.Get("Content-Length") == "" {
		b.WriteString("Content-Length: " + itoa(len(body)) + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n" + body)
	conn.Write([]byte(b.String()))
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return response{resp.StatusCode, resp.Header, strings.TrimSpace(string(data))}
}

const signingRoutes = `
routes:
  - match: /bound/
    mode: binding
    binding_headers: [Authorization]
  - match: /watch/
    monitor: true
  - match: /strict/
    message_signing: required
  - match: /unsigned/
    message_signing: "off"
`

func TestInstallSignatures(t *testing.T) {
	tg := newTestGateway(t, signingRoutes, "APPROOV_REQUEST_BUFFERING=1KiB", "APPROOV_MAX_SIGNED_BODY=16KiB")
	addr := tg.front.Listener.Addr().String()
	base := "http://" + addr
	app := newInstallApp(t)
	tok := token(t, map[string]any{"did": "phone-1", "ipk": app.ipk})
	const auth = "Bearer alice"
	bound := token(t, map[string]any{"did": "phone-1", "ipk": app.ipk, "pay": approov.PayloadHash(auth)})
	withToken := h("Approov-Token", tok)

	valid := signedHeaders(t, app.signer, "GET", base+"/items?page=2", withToken, "")
	bigBody := strings.Repeat("photo bytes ", 1000) // over request_buffering: spooled
	for _, tt := range []struct {
		name           string
		method, target string
		header         http.Header
		body           string
		status         int
	}{
		{"signed GET", "GET", "/items?page=2", valid, "", 200},
		{"no signature, token with ipk", "GET", "/items?page=2", withToken, "", 401},
		{"replayed on another path", "GET", "/other?page=2", valid, "", 401},
		{"replayed with another query", "GET", "/items?page=3", valid, "", 401},
		{"replayed with another method", "DELETE", "/items?page=2", valid, "", 401},
		{"replayed with another token", "GET", "/items?page=2", func() http.Header {
			c := valid.Clone()
			c.Set("Approov-Token", token(t, map[string]any{"did": "phone-2", "ipk": app.ipk}))
			return c
		}(), "", 401},
		{"signed by another installation", "GET", "/items?page=2",
			signedHeaders(t, newInstallApp(t).signer, "GET", base+"/items?page=2", withToken, ""), "", 401},
		{"signed POST with its body", "POST", "/upload", signedHeaders(t, app.signer, "POST", base+"/upload", withToken, "hello"), "hello", 200},
		{"POST with another body", "POST", "/upload", signedHeaders(t, app.signer, "POST", base+"/upload", withToken, "hello"), "jello", 401},
		{"signed POST, spooled body", "POST", "/upload", signedHeaders(t, app.signer, "POST", base+"/upload", withToken, bigBody), bigBody, 200},
		{"spooled body changed", "POST", "/upload", signedHeaders(t, app.signer, "POST", base+"/upload", withToken, bigBody), bigBody[:len(bigBody)-1] + "!", 401},
		{"body over max_signed_body", "POST", "/upload", signedHeaders(t, app.signer, "POST", base+"/upload", withToken, strings.Repeat("x", 17<<10)), strings.Repeat("x", 17<<10), 413},
		{"bound credential covered", "GET", "/bound/me", signedHeaders(t, app.signer, "GET", base+"/bound/me", h("Approov-Token", bound, "Authorization", auth), ""), "", 200},
		{"bound credential not covered", "GET", "/bound/me", func() http.Header {
			hd := h("Approov-Token", bound)
			sig, _ := app.signer.Sign(&msgsig.Request{Method: "GET", TargetURI: base + "/bound/me", Header: hd}, []string{"@method", "@target-uri", "approov-token"})
			sig.AddTo(hd)
			hd.Set("Authorization", auth)
			return hd
		}(), "", 401},
		{"route with signing off", "GET", "/unsigned/x", withToken, "", 200},
		{"required, token without ipk or mskid", "GET", "/strict/x", h("Approov-Token", token(t, nil)), "", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := tg.backend.hits.Load()
			r := postRaw(t, addr, tt.method, tt.target, tt.header, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.body)
			}
			reached := tg.backend.hits.Load() != before
			if reached != (tt.status == 200) {
				t.Fatalf("backend reached: %v", reached)
			}
			if tt.status == 200 && tt.body != "" && decodeSeen(t, r.body).Body != tt.body {
				t.Fatal("the backend got another body than the one checked")
			}
		})
	}

	// In monitor mode a failing signature passes, with its reason as the
	// result and no identity.
	r := tg.do(t, "GET", "/watch/x", withToken)
	if s := decodeSeen(t, r.body); r.status != 200 || s.Header.Get("Approov-Result") != "signature_missing" || s.Header.Get("Approov-Device-Id") != "" {
		t.Fatalf("monitor mode: %d %v", r.status, s.Header)
	}
}

func TestAccountSignatures(t *testing.T) {
	key := []byte("account message signing key, 32+ bytes long!")
	tg := newTestGateway(t, "", "APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL="+base64.RawURLEncoding.EncodeToString(key), "APPROOV_ACCOUNT_MESSAGE_SIGNING_KEY_ID=k1")
	base := "http://" + tg.front.Listener.Addr().String()
	signer, err := msgsig.NewAccountSigner(key, msgsig.WithForm(msgsig.FormString))
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t, map[string]any{"mskid": "k1"})
	if r := tg.do(t, "GET", "/x", signedHeaders(t, signer, "GET", base+"/x", h("Approov-Token", tok), "")); r.status != 200 {
		t.Fatalf("account signature, string form: %d", r.status)
	}
	other := token(t, map[string]any{"mskid": "k2"})
	if r := tg.do(t, "GET", "/x", signedHeaders(t, signer, "GET", base+"/x", h("Approov-Token", other), "")); r.status != 401 {
		t.Fatalf("mskid of another key: %d", r.status)
	}
	if r := tg.do(t, "GET", "/x", h("Approov-Token", tok)); r.status != 401 {
		t.Fatalf("mskid without a signature: %d", r.status)
	}
}

func TestSignedTargetURIBehindAProxy(t *testing.T) {
	app := newInstallApp(t)
	tok := token(t, map[string]any{"ipk": app.ipk})
	signedFor := func(uri string) http.Header {
		return signedHeaders(t, app.signer, "GET", uri, h("Approov-Token", tok), "")
	}
	// A trusted load balancer terminates TLS: the app signed https and the
	// public host.
	trusted := newTestGateway(t, "", "APPROOV_TRUSTED_PROXIES=127.0.0.1")
	hd := signedFor("https://api.example.com/items")
	hd.Set("X-Forwarded-Proto", "https")
	hd.Set("X-Forwarded-Host", "api.example.com")
	if r := trusted.do(t, "GET", "/items", hd); r.status != 200 {
		t.Fatalf("behind a trusted proxy: %d", r.status)
	}
	// The same headers from a client that is not trusted count for nothing.
	untrusted := newTestGateway(t, "")
	if r := untrusted.do(t, "GET", "/items", hd); r.status != 401 {
		t.Fatalf("X-Forwarded-* from an untrusted client: %d", r.status)
	}
	// public_url fixes scheme and host whatever the request says.
	public := newTestGateway(t, "", "APPROOV_PUBLIC_URL=https://api.example.com")
	if r := public.do(t, "GET", "/items", signedFor("https://api.example.com/items")); r.status != 200 {
		t.Fatalf("with public_url: %d", r.status)
	}
}

func TestSignaturesOnForwardAuth(t *testing.T) {
	tg := newTestGateway(t, "forward_auth_only: true\n", "APPROOV_FORWARD_AUTH_CONVENTION=nginx")
	app := newInstallApp(t)
	tok := token(t, map[string]any{"ipk": app.ipk})
	// What the app sent: a POST with a body, which the check does not see.
	orig := signedHeaders(t, app.signer, "POST", "https://api.example.com/upload?x=1", h("Approov-Token", tok, "Content-Type", "text/plain"), "hello")
	check := orig.Clone()
	check.Del("Content-Length")
	check.Set("X-Original-Content-Length", "5")
	check.Set("X-Original-Method", "POST")
	check.Set("X-Original-Uri", "/upload?x=1")
	check.Set("X-Forwarded-Host", "api.example.com")
	check.Set("X-Forwarded-Proto", "https")
	if r := tg.do(t, "GET", "/_approov/verify", check); r.status != 200 {
		t.Fatalf("signed original request: %d %s", r.status, r.body)
	}
	check.Set("X-Original-Uri", "/upload?x=2")
	if r := tg.do(t, "GET", "/_approov/verify", check); r.status != 401 {
		t.Fatalf("another target: %d", r.status)
	}
}
