package jwks

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
)

func TestCheckURL(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want string // "" when accepted
	}{
		{"https://api.example.com/.well-known/jwks.json", ""},
		{"http://127.0.0.1:8080/jwks", ""},
		{"http://[::1]/jwks", ""},
		{"http://localhost/jwks", "loopback addresses only"},
		{"http://jwks.example.com/jwks", "want https"},
		{"http://10.0.0.1/jwks", "want https"},
		{"ftp://example.com/jwks", "want an https:// URL"},
		{"example.com/jwks", "want an https:// URL"},
		{"https:///jwks", "want an https:// URL"},
		{"https://example.com/jwks#x", "without a fragment"},
		{"https://exa mple.com/", "want an https:// URL"},
	} {
		_, err := CheckURL(tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.url, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.url, err, tt.want)
		}
	}
}

// TestRefreshReplaces: a refresh replaces the whole set, so a key the
// account removed stops verifying, and a new one verifies.
func TestRefreshReplaces(t *testing.T) {
	oldSigner, oldJWK := ecJWK(t, "old", nil)
	newSigner, newJWK := ecJWK(t, "new", nil)
	srv := newJWKSServer(t, document(t, oldJWK))
	s := newSource(t, srv.URL, nil)
	v := verifier(t, s)

	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(token(t, oldSigner)); err != nil {
		t.Fatalf("old key: %v", err)
	}
	srv.serve(http.StatusOK, document(t, newJWK))
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(token(t, newSigner)); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if _, err := v.Verify(token(t, oldSigner)); !errors.Is(err, approov.ErrUnknownKey) {
		t.Fatalf("removed key: %v", err)
	}
	st := s.Status()
	if !st.Loaded || len(st.Keys) != 1 || st.Keys[0].ID() != "new" || st.Failures != 0 || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

// TestRefreshFailureKeepsLastGood: whatever makes a refresh fail, the
// keys of the last good set keep verifying, and the status and counts
// say what happened.
func TestRefreshFailureKeepsLastGood(t *testing.T) {
	signer, jwk := ecJWK(t, "good", nil)
	_, oct := octJWK(t, "oct", map[string]any{"alg": "HS256"})
	srv := newJWKSServer(t, document(t, jwk))
	s := newSource(t, srv.URL, nil)
	v := verifier(t, s)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	failures := 0
	for _, tt := range []struct {
		name   string
		status int
		doc    []byte
		want   string
	}{
		{"HTTP 500", http.StatusInternalServerError, []byte("oops"), "HTTP status 500"},
		{"HTTP 404", http.StatusNotFound, nil, "HTTP status 404"},
		{"not JSON", http.StatusOK, []byte("<html>"), "not a JWK set"},
		{"no usable key", http.StatusOK, document(t, oct), "no key this gateway can use"},
		{"too large", http.StatusOK, append(append([]byte(`{"keys":[],"pad":"`), bytes.Repeat([]byte("a"), MaxDocument)...), `"}`...), "larger than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.serve(tt.status, tt.doc)
			err := s.Refresh(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Refresh: %v, want %q", err, tt.want)
			}
			failures++
			if _, err := v.Verify(token(t, signer)); err != nil {
				t.Fatalf("last good key: %v", err)
			}
			st := s.Status()
			if !st.Loaded || st.Failures != failures || !strings.Contains(st.LastError, tt.want) || len(st.Keys) != 1 {
				t.Fatalf("status %+v", st)
			}
		})
	}
	srv.serve(http.StatusOK, document(t, jwk))
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.Failures != 0 || st.LastError != "" {
		t.Fatalf("after recovery: %+v", st)
	}
	want := []Count{{TriggerScheduled, OutcomeOK, 2}, {TriggerScheduled, OutcomeError, uint64(failures)},
		{TriggerUnknownKid, OutcomeOK, 0}, {TriggerUnknownKid, OutcomeError, 0}}
	if got := s.Counts(); !equalCounts(got, want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
}

func equalCounts(a, b []Count) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRefreshTimeout: a server that never answers costs one Timeout, not
// the keys.
func TestRefreshTimeout(t *testing.T) {
	signer, jwk := ecJWK(t, "good", nil)
	srv := newJWKSServer(t, document(t, jwk))
	s := newSource(t, srv.URL, func(o *Options) { o.Timeout = 50 * time.Millisecond })
	v := verifier(t, s)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	srv.mu.Lock()
	srv.gate, srv.started = gate, make(chan struct{}, 1)
	srv.mu.Unlock()
	defer close(gate)
	err := s.Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("Refresh: %v", err)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("the error shows the URL: %v", err)
	}
	if _, err := v.Verify(token(t, signer)); err != nil {
		t.Fatal(err)
	}
}

// TestRedirects: a redirect is followed only to an address the URL rule
// accepts.
func TestRedirects(t *testing.T) {
	_, jwk := ecJWK(t, "k", nil)
	target := newJWKSServer(t, document(t, jwk))
	redirect := func(to string) *httptest.Server {
		srv := httptest.NewServer(http.RedirectHandler(to, http.StatusFound))
		t.Cleanup(srv.Close)
		return srv
	}
	if err := newSource(t, redirect(target.URL).URL, nil).Refresh(context.Background()); err != nil {
		t.Fatalf("redirect to loopback http: %v", err)
	}
	err := newSource(t, redirect("http://jwks.example.com/keys").URL, nil).Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), "redirected to http://jwks.example.com/keys: want https") {
		t.Fatalf("redirect to plain http: %v", err)
	}
}

// TestRedirectsFromHTTPS: an https set may redirect only to https; a
// remote host must not steer the gateway to plain http on loopback.
func TestRedirectsFromHTTPS(t *testing.T) {
	_, jwk := ecJWK(t, "k", nil)
	local := newJWKSServer(t, document(t, jwk))
	tlsJWKS := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(document(t, jwk)) }))
	t.Cleanup(tlsJWKS.Close)
	for _, tt := range []struct {
		to, want string
	}{
		{local.URL, "redirected from https to http://127.0.0.1"},
		{tlsJWKS.URL, ""},
	} {
		redirect := httptest.NewTLSServer(http.RedirectHandler(tt.to, http.StatusFound))
		t.Cleanup(redirect.Close)
		s := newSource(t, redirect.URL, func(o *Options) { o.Transport = redirect.Client().Transport })
		err := s.Refresh(context.Background())
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("redirect to %s: %v", tt.to, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("redirect to %s: %v, want %q", tt.to, err, tt.want)
		}
	}
	if n := local.count(); n != 0 {
		t.Fatalf("the loopback http server got %d requests", n)
	}
}

// TestRetryDelays: a source made by New retries a failing server after
// 1 s, then twice as long each time up to the interval, and refreshes a
// working one every interval, each give or take a tenth — never at once.
func TestRetryDelays(t *testing.T) {
	srv := newJWKSServer(t, nil)
	srv.serve(http.StatusServiceUnavailable, nil)
	s := newSource(t, srv.URL, func(o *Options) { o.RefreshInterval = 10 * time.Second })
	within := func(got, want time.Duration) bool {
		return got >= want-want/10 && got <= want+want/10
	}
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		err := s.Refresh(context.Background())
		if err == nil {
			t.Fatal("a failing server's set loaded")
		}
		if got := s.nextDelay(err); !within(got, want) {
			t.Fatalf("after %d failures: %v, want %v ± 10%%", s.Status().Failures, got, want)
		}
	}
	_, jwk := ecJWK(t, "k", nil)
	srv.serve(http.StatusOK, document(t, jwk))
	if got := s.nextDelay(s.Refresh(context.Background())); !within(got, 10*time.Second) {
		t.Fatalf("after a success: %v", got)
	}
}

// TestUnknownKid: a token naming a key the set lacks makes the source
// fetch the set once and verify with the new key in the same call;
// further unknown kids fetch again only after UnknownKidInterval.
func TestUnknownKid(t *testing.T) {
	_, oldJWK := ecJWK(t, "old", nil)
	newSigner, newJWK := ecJWK(t, "new", nil)
	srv := newJWKSServer(t, document(t, oldJWK))
	s := newSource(t, srv.URL, nil)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	v := verifier(t, s)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The account rotates: the set now has the new key.
	srv.serve(http.StatusOK, document(t, oldJWK, newJWK))
	if _, err := v.Verify(token(t, newSigner)); err != nil {
		t.Fatalf("new kid: %v", err)
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// An attacker's kids: no fetch within the interval.
	stranger, _ := ecJWK(t, "stranger", nil)
	for range 20 {
		if _, err := v.Verify(token(t, stranger)); !errors.Is(err, approov.ErrUnknownKey) {
			t.Fatalf("stranger: %v", err)
		}
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d fetches after unknown kids within the interval, want 2", n)
	}
	now = now.Add(time.Minute)
	if _, err := v.Verify(token(t, stranger)); !errors.Is(err, approov.ErrUnknownKey) {
		t.Fatalf("stranger: %v", err)
	}
	if n := srv.count(); n != 3 {
		t.Fatalf("%d fetches after the interval, want 3", n)
	}
	want := []Count{{TriggerScheduled, OutcomeOK, 1}, {TriggerScheduled, OutcomeError, 0},
		{TriggerUnknownKid, OutcomeOK, 2}, {TriggerUnknownKid, OutcomeError, 0}}
	if got := s.Counts(); !equalCounts(got, want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
}

// TestUnknownKidConcurrent: many tokens with a new kid at once cause one
// fetch, and every one of them verifies — those that arrive during the
// fetch wait for it, those after find the key.
func TestUnknownKidConcurrent(t *testing.T) {
	_, oldJWK := ecJWK(t, "old", nil)
	newSigner, newJWK := ecJWK(t, "new", nil)
	srv := newJWKSServer(t, document(t, oldJWK))
	s := newSource(t, srv.URL, nil)
	v := verifier(t, s)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	srv.mu.Lock()
	srv.doc, srv.gate, srv.started = document(t, oldJWK, newJWK), gate, started
	srv.mu.Unlock()

	tok := token(t, newSigner)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, err := v.Verify(tok)
			errs <- err
		})
	}
	<-started // one verification is fetching; the others wait or follow
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("verify: %v", err)
		}
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d fetches, want 2 (the start and one for the new kid)", n)
	}
}

// TestRun: the background loop fetches at once, retries a failing server
// with growing delays, and refreshes on schedule once it works.
func TestRun(t *testing.T) {
	signer, jwk := ecJWK(t, "k", nil)
	srv := newJWKSServer(t, nil)
	srv.serve(http.StatusServiceUnavailable, nil)
	s := newSource(t, srv.URL, func(o *Options) { o.RefreshInterval = 20 * time.Millisecond })
	s.retryBase = time.Millisecond
	results := make(chan error, 100)
	s.refreshed = func(err error) { results <- err }
	v := verifier(t, s)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for range 3 {
		if err := <-results; err == nil {
			t.Fatal("a refresh from a failing server succeeded")
		}
	}
	if st := s.Status(); st.Loaded || st.Failures < 3 {
		t.Fatalf("status %+v", st)
	}
	srv.serve(http.StatusOK, document(t, jwk))
	for err := <-results; err != nil; err = <-results {
	}
	if _, err := v.Verify(token(t, signer)); err != nil {
		t.Fatal(err)
	}
	// Scheduled refreshes keep coming.
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	<-done
}

// TestLogs: the log names keys and reasons, never key material, nor the
// URL's query or credentials.
func TestLogs(t *testing.T) {
	_, oct := octJWK(t, "hmac", map[string]any{"alg": "HS256"})
	_, ec := ecJWK(t, "ec", nil)
	var buf bytes.Buffer
	var mu sync.Mutex
	srv := newJWKSServer(t, document(t, oct, ec))
	u := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1) + "/jwks?token=sekrit"
	s := newSource(t, u, func(o *Options) {
		o.Log = slog.New(slog.NewJSONHandler(&lockedWriter{&mu, &buf}, nil))
	})
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.serve(http.StatusBadGateway, nil)
	s.Refresh(context.Background())
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{`"msg":"jwks loaded"`, `ES256 key \"ec\"`, `"msg":"jwks key skipped"`, `symmetric (oct) key`,
		`"msg":"jwks refresh failed; the last good key set stays in use"`, `HTTP status 502`, `/jwks?…`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{oct["k"].(string), "hunter2", "sekrit"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q:\n%s", secret, out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
