// Package jwks keeps an [approov.KeySet] filled from a JWK set URL (RFC
// 7517), such as the one an Approov account publishes when its key set
// has a JWKS URI: fetched at start, refreshed in the background and when a
// token names a key the set lacks (at most once per interval), the last
// good set kept when a refresh fails.
//
// Each key is pinned to one algorithm: its alg, or, without one, the only
// algorithm its type admits (a P-256 key: ES256). Keys that cannot be
// pinned, that the approov package does not verify, that are not for
// signatures, that carry private material, or that are symmetric when
// symmetric keys are not allowed are skipped one by one, with a reason;
// one bad key never costs the others. JWK parsing and validation are
// github.com/MicahParks/jwkset's; the fetch, the schedule and the rules
// above are here (docs/DESIGN.md says why).
package jwks

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/internal/logfield"
)

// MaxDocument is the largest JWK set document read, in bytes. Real ones
// are a few kilobytes.
const MaxDocument = 1 << 20

// Options configure a [Source].
type Options struct {
	// URL is the JWK set's address: https, or http to a loopback address.
	URL string
	// RefreshInterval is the time between background refreshes.
	RefreshInterval time.Duration
	// UnknownKidInterval is the shortest time between two refreshes
	// caused by tokens naming a key the set lacks.
	UnknownKidInterval time.Duration
	// Timeout bounds one fetch, connection included.
	Timeout time.Duration
	// AllowSymmetric accepts oct (HMAC) keys. A JWK set is usually
	// public, and a published HMAC secret lets anyone mint tokens, so
	// they are skipped unless this is set.
	AllowSymmetric bool
	// Transport makes the requests; nil is http.DefaultTransport.
	Transport http.RoundTripper
	// Log receives what the source does; nil discards it.
	Log *slog.Logger
}

// Triggers name what caused a refresh, in [Count].
const (
	TriggerScheduled  = "scheduled"   // the start, the interval, a retry after a failure
	TriggerUnknownKid = "unknown_kid" // a token named a key the set lacks
)

// Outcomes of a refresh, in [Count].
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// Count is how many refreshes had one trigger and outcome.
type Count struct {
	Trigger, Outcome string
	N                uint64
}

// Skipped is a key of the set that is not used, and why.
type Skipped struct {
	// Index is the key's position in the document's keys array.
	Index int
	// KeyID is its kid, or "".
	KeyID string
	// Reason says why it is skipped.
	Reason string
}

// Status is the state of a source.
type Status struct {
	// Loaded reports whether a fetch has ever succeeded.
	Loaded bool
	// LoadedAt is the time of the last successful fetch.
	LoadedAt time.Time
	// Keys are the keys in use: those of the last good set.
	Keys []*approov.Key
	// Skipped are the keys of the last good set that are not used.
	Skipped []Skipped
	// Failures counts the fetches that failed since the last success.
	Failures int
	// LastError is why the last fetch failed, or "" if it succeeded.
	LastError string
}

// Source keeps a key set filled from a JWK set URL. Build it with [New];
// [Source.Run] keeps it current, [Source.Refresh] fetches once.
type Source struct {
	opts   Options
	url    *url.URL
	client *http.Client
	log    *slog.Logger
	set    *approov.KeySet

	// now is the clock; tests replace it.
	now func() time.Time
	// refreshed, when not nil, is called after each fetch; tests use it
	// to wait for the background loop.
	refreshed func(error)
	// retryBase is the first delay before a retry: 1 s, shorter in tests.
	retryBase time.Duration

	mu sync.Mutex
	// ctx bounds fetches started by unknown kids: Run's context.
	ctx context.Context
	// inflight is closed when the fetch in progress ends; nil when none
	// is.
	inflight   chan struct{}
	inflightOK bool
	// lastUnknownKid is when an unknown kid last caused a fetch.
	lastUnknownKid time.Time
	status         Status
	// docHash is the SHA-256 of the last good document, to log its keys
	// only when it changes.
	docHash [sha256.Size]byte
	counts  map[[2]string]uint64
}

// New returns a source for opts.URL, which must be https, or http to a
// loopback address (a JWK set fetched in the clear could be swapped in
// transit). It fetches nothing yet.
func New(opts Options) (*Source, error) {
	u, err := CheckURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.RefreshInterval <= 0 || opts.UnknownKidInterval <= 0 || opts.Timeout <= 0 {
		return nil, errors.New("jwks: intervals and timeout must be positive")
	}
	transport := opts.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{
		opts:      opts,
		url:       u,
		log:       log.With("jwks_url", Redact(u)),
		now:       time.Now,
		retryBase: time.Second,
		ctx:       context.Background(),
		counts:    map[[2]string]uint64{},
	}
	s.client = &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("more than 5 redirects")
			}
			if _, err := CheckURL(req.URL.String()); err != nil {
				return fmt.Errorf("redirected to %s: %v", Redact(req.URL), err)
			}
			// An https set stays https: a remote host must not steer the
			// gateway to plain http on this machine.
			if u.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirected from https to %s", Redact(req.URL))
			}
			return nil
		},
	}
	s.set = approov.NewKeySet(s.unknownKid)
	return s, nil
}

// CheckURL parses a JWK set URL and checks that it is https, or http to
// a loopback address.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("want an https:// URL")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, errors.New("want https: a JWK set fetched over http could be replaced on the way (http is accepted for loopback addresses only, such as 127.0.0.1)")
	}
	if u.Fragment != "" {
		return nil, errors.New("want a URL without a fragment")
	}
	return u, nil
}

// isLoopback reports whether host is a loopback IP address. A name, even
// localhost, is not: what it resolves to is not this machine's to decide
// alone.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Redact returns u without credentials or query, which may hold secrets,
// for logs.
func Redact(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.RawQuery != "" {
		r.RawQuery = "…"
	}
	return r.String()
}

// Set returns the key set the source fills, for [approov.WithKeySet].
func (s *Source) Set() *approov.KeySet { return s.set }

// Status returns the source's state.
func (s *Source) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Keys = slices.Clone(st.Keys)
	st.Skipped = slices.Clone(st.Skipped)
	return st
}

// Age returns the time since the keys in use were fetched, or 0 before
// any fetch has worked.
func (s *Source) Age() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.status.Loaded {
		return 0
	}
	return s.now().Sub(s.status.LoadedAt)
}

// Counts returns how many refreshes each trigger caused, by outcome, in a
// stable order.
func (s *Source) Counts() []Count {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Count
	for _, t := range []string{TriggerScheduled, TriggerUnknownKid} {
		for _, o := range []string{OutcomeOK, OutcomeError} {
			out = append(out, Count{Trigger: t, Outcome: o, N: s.counts[[2]string{t, o}]})
		}
	}
	return out
}

// Refresh fetches the set now, or waits for the fetch in progress, and
// returns why it failed. On failure the keys in use stay as they were.
func (s *Source) Refresh(ctx context.Context) error {
	return s.refresh(ctx, TriggerScheduled)
}

// Run fetches the set, then refreshes it every RefreshInterval (give or
// take a tenth, so that many gateways do not fetch in step) until ctx is
// done. After a failure it retries sooner: after 1 s, then twice as long
// each time, up to the interval.
func (s *Source) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		timer.Reset(s.nextDelay(s.refresh(ctx, TriggerScheduled)))
	}
}

// nextDelay returns the time until the next scheduled fetch after one
// that ended with err: the interval after a success; after a failure,
// retryBase doubled for each failure in a row, up to the interval. Either
// is spread by a tenth either way, so that gateways do not fetch in step,
// and is never under retryBase.
func (s *Source) nextDelay(err error) time.Duration {
	next := s.opts.RefreshInterval
	if err != nil {
		s.mu.Lock()
		failures := s.status.Failures
		s.mu.Unlock()
		next = min(next, s.retryBase<<min(max(failures-1, 0), 20))
	}
	next += time.Duration((rand.Float64() - 0.5) * 0.2 * float64(next))
	return max(next, s.retryBase)
}

// unknownKid is the key set's hook: a token names kid, which no key had
// when the verifier looked. It joins a fetch in progress, or starts one
// unless an unknown kid caused one less than UnknownKidInterval ago, and
// reports whether the verifier should look again: a fetch succeeded, or
// the set has the kid by now.
func (s *Source) unknownKid(kid string) bool {
	s.mu.Lock()
	if ch := s.inflight; ch != nil {
		s.mu.Unlock()
		<-ch // bounded by Timeout
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.inflightOK
	}
	now := s.now()
	if !s.lastUnknownKid.IsZero() && now.Sub(s.lastUnknownKid) < s.opts.UnknownKidInterval {
		s.mu.Unlock()
		return s.hasKid(kid)
	}
	s.lastUnknownKid = now
	ch := s.startLocked()
	ctx := s.ctx
	s.mu.Unlock()
	s.log.Info("jwks refresh: a token names a key the set lacks", "kid", logfield.Truncate(kid))
	return s.run(ctx, TriggerUnknownKid, ch) == nil
}

// hasKid reports whether a key of the set has id kid.
func (s *Source) hasKid(kid string) bool {
	for _, k := range s.set.Keys() {
		if k.ID() == kid {
			return true
		}
	}
	return false
}

// refresh fetches the set, or waits for the fetch in progress, and
// returns why it failed.
func (s *Source) refresh(ctx context.Context, trigger string) error {
	s.mu.Lock()
	if ch := s.inflight; ch != nil {
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.inflightOK {
			return errors.New(s.status.LastError)
		}
		return nil
	}
	ch := s.startLocked()
	s.mu.Unlock()
	return s.run(ctx, trigger, ch)
}

// startLocked marks a fetch in progress; s.mu is held.
func (s *Source) startLocked() chan struct{} {
	ch := make(chan struct{})
	s.inflight = ch
	return ch
}

// run fetches and parses the set, replaces the keys if that worked,
// records and logs the outcome, and ends the fetch in progress, ch.
func (s *Source) run(ctx context.Context, trigger string, ch chan struct{}) error {
	doc, hash, err := s.fetch(ctx)
	var keys []*approov.Key
	var skipped []Skipped
	if err == nil {
		keys, skipped, err = Parse(doc, s.opts.AllowSymmetric)
	}

	s.mu.Lock()
	outcome := OutcomeOK
	changed := false
	if err != nil {
		outcome = OutcomeError
		s.status.Failures++
		s.status.LastError = err.Error()
	} else {
		_ = s.set.Replace(keys) // no nil keys: Parse made them
		changed = hash != s.docHash
		s.docHash = hash
		s.status = Status{Loaded: true, LoadedAt: s.now(), Keys: keys, Skipped: skipped}
	}
	s.counts[[2]string{trigger, outcome}]++
	failures, loadedAt, loaded := s.status.Failures, s.status.LoadedAt, s.status.Loaded
	s.inflight, s.inflightOK = nil, err == nil
	s.mu.Unlock()
	close(ch)

	switch {
	case err != nil && loaded:
		s.log.Warn("jwks refresh failed; the last good key set stays in use", "trigger", trigger, "error", err.Error(),
			"failures", failures, "keys_age", s.now().Sub(loadedAt).Round(time.Second).String())
	case err != nil:
		s.log.Warn("jwks fetch failed; no key from the set is in use yet", "trigger", trigger, "error", err.Error(), "failures", failures)
	case changed:
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.String()
		}
		s.log.Info("jwks loaded", "trigger", trigger, "keys", ids, "skipped", len(skipped))
		for _, k := range skipped {
			s.log.Warn("jwks key skipped", "index", k.Index, "kid", logfield.Truncate(k.KeyID), "reason", k.Reason)
		}
	}
	if s.refreshed != nil {
		s.refreshed(err)
	}
	return err
}

// fetch gets the document and its SHA-256.
func (s *Source) fetch(ctx context.Context) ([]byte, [sha256.Size]byte, error) {
	var hash [sha256.Size]byte
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url.String(), nil)
	if err != nil {
		return nil, hash, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	req.Header.Set("User-Agent", "approov-gateway")
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a secret
		}
		return nil, hash, fmt.Errorf("fetching: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, hash, fmt.Errorf("fetching: HTTP status %d", resp.StatusCode)
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocument+1))
	if err != nil {
		return nil, hash, fmt.Errorf("reading: %v", err)
	}
	if len(doc) > MaxDocument {
		return nil, hash, fmt.Errorf("the document is larger than %d bytes", MaxDocument)
	}
	return doc, sha256.Sum256(doc), nil
}

// Parse reads a JWK set document and returns the keys it can use, each
// pinned to one algorithm, and those it skips, with why. It fails only
// when the document is not a JWK set or has no usable key, so that a
// refresh never replaces good keys with none.
func Parse(doc []byte, allowSymmetric bool) ([]*approov.Key, []Skipped, error) {
	var set struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, nil, fmt.Errorf("not a JWK set: %v", err)
	}
	if set.Keys == nil {
		return nil, nil, errors.New("not a JWK set: no keys member")
	}
	var keys []*approov.Key
	var skipped []Skipped
	for i, raw := range *set.Keys {
		key, kid, err := parseKey(raw, allowSymmetric)
		if err != nil {
			skipped = append(skipped, Skipped{Index: i, KeyID: kid, Reason: err.Error()})
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, skipped, fmt.Errorf("the JWK set has no key this gateway can use (%d skipped)", len(skipped))
	}
	return keys, skipped, nil
}

// String reports the skip reasons in a stable, readable form.
func (k Skipped) String() string {
	return fmt.Sprintf("keys[%d] (kid %q): %s", k.Index, logfield.Truncate(k.KeyID), k.Reason)
}
