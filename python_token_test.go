package approov_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/e2e"
)

// pyCase is one token for approov_django's verifier, as
// python/tests/token_oracle.py reads it.
type pyCase struct {
	Token         []byte  `json:"token"`
	Secret        []byte  `json:"secret"`
	Now           float64 `json:"now"`
	Authorization *string `json:"authorization,omitempty"`
	how           string
}

// TestDjangoPackageVerdicts holds approov_django's in-process verifier
// (python/approov_django/tokens.py, PyJWT behind strict pre-checks) to this
// library's verdict and reason code on every token: the PyJWT known-answer
// vectors (and mutations of each), the fuzz corpora's seeds, and 20,000
// generated and mutated tokens. PyJWT alone accepts about 1,500 of them
// that this library refuses (docs/DIFFERENTIAL.md); the package must refuse
// each for the same reason.
func TestDjangoPackageVerdicts(t *testing.T) {
	const python = "/usr/bin/python3"
	e2e.Require(t, python)
	var cases []pyCase
	var ours []string

	// The known-answer vectors, with the binding they were made for.
	vectorSecret := []byte("vector secret: 64 bytes, signed by PyJWT, checked by approov.go.")
	vectorNow := time.Unix(1_900_000_000, 0)
	data, err := os.ReadFile("testdata/pyjwt_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct{ Name, Token, Authorization, Reason string }
	if err := json.Unmarshal(data, &vectors); err != nil {
		t.Fatal(err)
	}
	g := &tokenGen{r: rand.New(rand.NewSource(20261130)), now: fuzzNow}
	for _, vec := range vectors {
		opts := []approov.Option{approov.WithSecret(vectorSecret), approov.WithClock(func() time.Time { return vectorNow })}
		var auth *string
		if vec.Authorization != "" {
			auth = &vec.Authorization
			opts = append(opts, approov.WithBinding(mustBinding(t, []string{"Authorization"})))
		}
		v, err := approov.NewVerifier(opts...)
		if err != nil {
			t.Fatal(err)
		}
		tokens := []string{vec.Token}
		for range 5 {
			m, _ := g.mutate(vec.Token)
			tokens = append(tokens, m)
		}
		for i, tok := range tokens {
			h := http.Header{"Approov-Token": {tok}}
			if auth != nil {
				h.Set("Authorization", *auth)
			}
			_, err := v.VerifyRequest(h)
			if strings.ContainsAny(tok, ",") || strings.TrimSpace(tok) != tok {
				continue // a header value Go and WSGI would read differently; not a verifier question
			}
			cases = append(cases, pyCase{Token: []byte(tok), Secret: vectorSecret, Now: float64(vectorNow.Unix()), Authorization: auth,
				how: fmt.Sprintf("vector %q, mutation %d", vec.Name, i)})
			ours = append(ours, approov.Reason(err))
		}
	}

	// The fuzz corpora's seeds, and generated tokens.
	v, err := approov.NewVerifier(approov.WithSecret(testSecret), approov.WithClock(func() time.Time { return fuzzNow }))
	if err != nil {
		t.Fatal(err)
	}
	add := func(tok, how string) {
		_, err := v.Verify(tok)
		cases = append(cases, pyCase{Token: []byte(tok), Secret: testSecret, Now: float64(fuzzNow.Unix()), how: how})
		ours = append(ours, approov.Reason(err))
	}
	for _, seed := range fuzzCorpus(t, "FuzzVerify") {
		add(seed[0], "FuzzVerify seed")
	}
	signer := approovtest.MustSigner(approov.HS256, testSecret, "")
	for _, seed := range fuzzCorpus(t, "FuzzVerifySigned") {
		tok, err := signer.SignJSON([]byte(seed[0]), []byte(seed[1]))
		if err != nil {
			t.Fatal(err)
		}
		add(tok, "FuzzVerifySigned seed")
	}
	for _, tok := range g.tokens(t, 20000) {
		add(tok.token, tok.how)
	}
	// Bytes no base64url has, where a WSGI server hands them over as
	// latin-1, and a date the Python side once rounded into the year
	// 10000: found by a review, each once a 500.
	parts := strings.Split(mustSignJSON(t, signer, `{"alg":"HS256"}`, `{"exp":1900000300}`), ".")
	for i, tok := range []string{
		parts[0] + ".\xe9." + parts[2],
		parts[0] + "." + parts[1] + "\xff." + parts[2],
		parts[0] + "\x80." + parts[1] + "." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2] + "\xe9",
		mustSignJSON(t, signer, `{"alg":"HS256"}`, `{"exp":253402300799.9999999,"did":"d"}`),
		mustSignJSON(t, signer, `{"alg":"HS256"}`, `{"exp":253402300799.5}`),
		mustSignJSON(t, signer, `{"alg":"HS256"}`, `{"exp":2.534023008e11}`),
	} {
		add(tok, fmt.Sprintf("hand-made %d", i))
	}

	verdicts := runTokenOracle(t, python, cases)
	agree := map[string]int{}
	failures := 0
	for i, c := range cases {
		if verdicts[i] == ours[i] {
			agree[ours[i]]++
			continue
		}
		failures++
		if failures <= 20 {
			t.Errorf("%s: Go %s, approov_django %s: %q", c.how, ours[i], verdicts[i], c.Token)
		}
	}
	if failures > 20 {
		t.Errorf("... %d disagreements in all", failures)
	}
	reasons := make([]string, 0, len(agree))
	for r, n := range agree {
		reasons = append(reasons, r+"="+strconv.Itoa(n))
	}
	sort.Strings(reasons)
	t.Logf("%d tokens, same reason code on %d: %s", len(cases), len(cases)-failures, strings.Join(reasons, " "))
	// A differential that never sees both accept proves little.
	if agree["ok"] < len(cases)/10 {
		t.Errorf("only %d tokens accepted by both: the generator has drifted", agree["ok"])
	}
}

// fuzzCorpus reads the seeds of a fuzz target's corpus in testdata/fuzz:
// the string arguments of each file.
func fuzzCorpus(t *testing.T, target string) [][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus for %s: %v", target, err)
	}
	var seeds [][]string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var args []string
		for _, line := range strings.Split(string(data), "\n")[1:] {
			if inner, ok := strings.CutPrefix(line, "string("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(inner, ")"))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				args = append(args, s)
			}
		}
		seeds = append(seeds, args)
	}
	return seeds
}

// runTokenOracle asks python/tests/token_oracle.py for approov_django's
// reason code on each case.
func runTokenOracle(t *testing.T, python string, cases []pyCase) []string {
	t.Helper()
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	return runOracle(t, "approov_django oracle (Debian's python3-jwt and python3-django)", &in, len(cases),
		python, filepath.Join("python", "tests", "token_oracle.py"))
}
