package assertion_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/assertion"
	"github.com/approov-gateway/approov/internal/e2e"
)

// The contract has two implementations, this package and the Django
// package (python/approov_django/assertion.py). This test runs the
// package's verifier, under Debian's Python with PyJWT,
// on every case the Go tests use and a few more, each delivered as gunicorn
// would deliver the request to Django, and requires the same verdict and
// reason code as Verifier.VerifyRequest, and the same facts when it passes.

// python is Debian's interpreter, which has python3-jwt and python3-django;
// the python3 first on PATH may be another one.
const python = "/usr/bin/python3"

// djangoCase is a request as the Python verifier gets it.
type djangoCase struct {
	Assertion *string           `json:"assertion"`
	Method    string            `json:"method"`
	Host      string            `json:"host"`
	Target    string            `json:"target"`
	Headers   map[string]string `json:"headers"`
}

// djangoVerdict is what the Python verifier said of one case.
type djangoVerdict struct {
	Reason string            `json:"reason"`
	Detail string            `json:"detail"`
	Result string            `json:"result"`
	DID    string            `json:"did"`
	Tex    int64             `json:"tex"`
	Clm    map[string]string `json:"clm"`
}

// wsgi returns the WSGI string for the bytes of s: each byte one
// character, as servers decode requests (latin-1).
func wsgi(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// asDjango returns r as gunicorn hands it to Django: repeated headers
// joined with commas, names in lower case, bytes as latin-1.
func asDjango(r *http.Request) djangoCase {
	c := djangoCase{Method: wsgi(r.Method), Host: wsgi(r.Host), Target: wsgi(r.RequestURI), Headers: map[string]string{}}
	for name, values := range r.Header {
		joined := wsgi(strings.Join(values, ","))
		if name == assertion.DefaultHeader {
			c.Assertion = &joined
			continue
		}
		c.Headers[strings.ToLower(name)] = joined
	}
	return c
}

// requireDjango fails the test when Debian's Python, PyJWT or Django is
// missing: scripts/test installs them, and a missing one must not pass.
func requireDjango(t *testing.T) {
	t.Helper()
	e2e.Require(t, python)
	if out, err := exec.Command(python, "-c", "import jwt, django").CombinedOutput(); err != nil {
		t.Fatalf("%s lacks PyJWT or Django: run ./scripts/test, which installs python3-jwt and python3-django: %v\n%s", python, err, out)
	}
}

type djangoRun struct {
	Secret      string       `json:"secret"`
	Audience    string       `json:"audience"`
	Leeway      float64      `json:"leeway"`
	MaxLifetime float64      `json:"max_lifetime"`
	Now         int64        `json:"now"`
	Cases       []djangoCase `json:"cases"`
	KeySettings []string     `json:"key_settings"`
	verdicts    []djangoVerdict
	keyVerdicts []keyVerdict
}

type keyVerdict struct {
	IDs   []string `json:"ids"`
	Error string   `json:"error"`
}

func (run *djangoRun) exec(t *testing.T) {
	t.Helper()
	in, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/django_verifier.py")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the Django verifier failed (run ./scripts/test to install its packages): %v\n%s", err, stderr.String())
	}
	var got struct {
		Cases []djangoVerdict `json:"cases"`
		Keys  []keyVerdict    `json:"keys"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("the Django verifier's output: %v\n%s", err, out)
	}
	if len(got.Cases) != len(run.Cases) || len(got.Keys) != len(run.KeySettings) {
		t.Fatalf("the Django verifier gave %d verdicts for %d cases, %d for %d key settings",
			len(got.Cases), len(run.Cases), len(got.Keys), len(run.KeySettings))
	}
	run.verdicts, run.keyVerdicts = got.Cases, got.Keys
}

func TestDjangoVerifierAgrees(t *testing.T) {
	requireDjango(t)
	// Both verifiers read the same fixed clock, a whole second, so the
	// cases on a one-second edge of expiry and iat are held too.
	issued := time.Unix(time.Now().Unix(), 0)
	keys := []*assertion.Key{key1}
	v, err := assertion.NewVerifier(keys, assertion.WithClock(func() time.Time { return issued }))
	if err != nil {
		t.Fatal(err)
	}
	s, err := assertion.NewSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	signerWith := func(keys []*assertion.Key, opts ...assertion.SignerOption) *assertion.Signer {
		s, err := assertion.NewSigner(keys, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	at := func(d time.Duration) assertion.SignerOption {
		return assertion.WithClock(func() time.Time { return issued.Add(d) })
	}

	var requests []*http.Request
	var names []string
	add := func(name string, r *http.Request) {
		names = append(names, name)
		requests = append(requests, r)
	}
	// Every token case, replayed on the request it was made for.
	for _, tc := range tokenCases(issued) {
		r := request("GET", "/v1/orders?id=7", "api.example.com")
		r.Header.Set(assertion.DefaultHeader, tc.token)
		add("token: "+tc.name, r)
	}
	// Every request case.
	for _, rc := range requestCases(t, s) {
		add("request: "+rc.name, rc.request())
	}
	// Assertions from Signers configured otherwise.
	for name, signer := range map[string]*assertion.Signer{
		"signed ten minutes ago":         signerWith(keys, at(-10*time.Minute)),
		"signed ten minutes ahead":       signerWith(keys, at(10*time.Minute)),
		"ten-minute lifetime":            signerWith(keys, assertion.WithLifetime(10*time.Minute)),
		"other audience":                 signerWith(keys, assertion.WithAudience("billing")),
		"gateway rotated first":          signerWith([]*assertion.Key{key2, key1}),
		"the facts of a valid token":     s,
		"public route":                   s,
		"monitor mode, token expired":    s,
		"every forwarded claim, binding": s,
	} {
		r := request("POST", "/v1/orders?draft=1&tag=a%20b", "api.example.com", "Authorization", "Bearer alice")
		c := claimsFor(r)
		switch name {
		case "public route":
			c.Result, c.DeviceID = assertion.ResultPublic, ""
		case "monitor mode, token expired":
			c.Result, c.DeviceID = "token_expired", ""
		case "the facts of a valid token":
			c.TokenExpiry = issued.Add(time.Hour)
			c.Forwarded = assertion.Forwarded{IP: "192.0.2.1", PayloadHash: "cGF5"}
		case "every forwarded claim, binding":
			c = claimsFor(r, "Authorization")
			c.Forwarded = assertion.Forwarded{IP: "192.0.2.1", AttestationResponse: "arc", InstallationPublicKey: "ipk",
				MessageSigningKeyID: "mskid", PayloadHash: "pay", Issuer: "approov.io", Subject: "sub \u00e9"}
		}
		r.Header.Set(assertion.DefaultHeader, sign(t, signer, c))
		add("signer: "+name, r)
	}

	run := &djangoRun{
		Secret:      base64.StdEncoding.EncodeToString(secret1),
		Audience:    assertion.DefaultAudience,
		Leeway:      assertion.DefaultLeeway.Seconds(),
		MaxLifetime: assertion.DefaultMaxLifetime.Seconds(),
		Now:         issued.Unix(),
		KeySettings: keySettings(),
	}
	for _, r := range requests {
		run.Cases = append(run.Cases, asDjango(r))
	}
	run.exec(t)

	reasons := map[string]int{}
	for i, r := range requests {
		c, err := v.VerifyRequest(r)
		want, got := assertion.Reason(err), run.verdicts[i]
		reasons[want]++
		if got.Reason != want {
			t.Errorf("%s: Django says %s (%s), Go %s (%v)", names[i], got.Reason, got.Detail, want, err)
			continue
		}
		if err != nil {
			continue
		}
		var tex int64
		if !c.TokenExpiry.IsZero() {
			tex = c.TokenExpiry.Unix()
		}
		wantClm := map[string]string{}
		for name, value := range map[string]string{"ip": c.Forwarded.IP, "arc": c.Forwarded.AttestationResponse,
			"ipk": c.Forwarded.InstallationPublicKey, "mskid": c.Forwarded.MessageSigningKeyID,
			"pay": c.Forwarded.PayloadHash, "iss": c.Forwarded.Issuer, "sub": c.Forwarded.Subject} {
			if value != "" {
				wantClm[name] = value
			}
		}
		if got.Result != c.Result || got.DID != c.DeviceID || got.Tex != tex || !reflect.DeepEqual(got.Clm, wantClm) {
			t.Errorf("%s: Django's facts %+v, Go's %+v", names[i], got, c)
		}
	}
	// The run must have exercised every reason code.
	for _, code := range append(assertion.Reasons(), "ok") {
		if reasons[code] == 0 {
			t.Errorf("no case gave %s", code)
		}
	}
	t.Logf("%d cases agree: %v", len(requests), sortedCounts(reasons))

	for i, setting := range run.KeySettings {
		keys, err := assertion.ParseKeys(setting)
		got := run.keyVerdicts[i]
		if (err == nil) != (got.Error == "") {
			t.Errorf("key setting %d: Go error %v, Django error %q", i, err, got.Error)
			continue
		}
		if err != nil {
			for _, part := range strings.Split(setting, ",") {
				if part = strings.TrimSpace(part); len(part) >= 8 && strings.Contains(got.Error, part[:8]) {
					t.Errorf("key setting %d: Django's error %q shows key material", i, got.Error)
				}
			}
			continue
		}
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID())
		}
		if !reflect.DeepEqual(ids, got.IDs) {
			t.Errorf("key setting %d: Go ids %v, Django ids %v", i, ids, got.IDs)
		}
	}
}

// keySettings are assertion_secret values, good and bad, on which both
// implementations must agree.
func keySettings() []string {
	std := base64.StdEncoding.EncodeToString(secret1)
	url := base64.URLEncoding.EncodeToString([]byte("assertion key with \xfb\xff bytes: not secret"))
	return []string{
		std,
		base64.RawStdEncoding.EncodeToString(secret1),
		url,
		strings.TrimRight(url, "="),
		" " + std + " ,\t" + base64.StdEncoding.EncodeToString(secret2) + "\n",
		"",
		" ",
		std + ",",
		std + ",," + std,
		std + "," + base64.RawURLEncoding.EncodeToString(secret1),
		"this-is-not-base64!-but-long-enough",
		strings.Repeat("abcdefgh", 5) + "+_AA",
		std[:len(std)-2] + "B=",
		std[:20] + "\n" + std[20:],
		std[:len(std)-1],
		std + "==",
		base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("ab"), 32)),
		base64.StdEncoding.EncodeToString([]byte("a short secret value")),
	}
}

func sortedCounts(m map[string]int) []string {
	var out []string
	for k, n := range m {
		out = append(out, k+"="+strconv.Itoa(n))
	}
	sort.Strings(out)
	return out
}
