package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/approov-gateway/approov/msgsig"
)

// The known-answer request: the secret its token is signed with,
// the token (with the ipk of vectorInstallKey), and its install signature.
const (
	vectorSecret    = "TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA=="
	vectorToken     = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcHByb292LmlvIiwiZXhwIjoxOTk5OTk5OTk5LCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6IkFwcHJvb3ZBY2NvdW50SUQuYXBwcm9vdi5pbyIsInN1YiI6ImFwcHJvb3Z8RXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwiaXAiOiIxLjIuMy40IiwiaXBrIjoiTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFSlNtNERNY2l2QXd2aE0rS05jZTJDL1gyNmNqM29HeVV3V1ZVUHVOdVpIdGQycXlWc00rMGc3cVg3M1FoME9mNmZuMTBBQXBMbmw4dlJRc3Z4OTRmWlE9PSIsImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.hV6xTkGsp9uWwrD-yKkIGTBJawbofJEsuRLw9Qa5YXY"
	vectorInput     = `install=("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256";created=1744292750;expires=1999999999`
	vectorSignature = `install=:eqCroJn6E04gnRx5vftlLHY0qLeaTpEYv+U0VJkdzJUDvxekODhb+L/2z89Lrk0L42p/0jQzhAhMHxFYVWWs7g==:`
	vectorURL       = "http://0.0.0.0:8111/token?param1=value1&param2=value2"
	vectorDigest    = "6K4F6LGF+NhHQy7YLLiIgNcBFthYfn4xbqoLoLW1GY4="
)

// TestTokenCheckExplainVector: the request, explained, shows the
// base whose SHA-256 the issue gives; never the token. Its token has an
// aud claim, which token check, configuring no audience, refuses: the
// signatures are then not checked, but the bases are still shown.
func TestTokenCheckExplainVector(t *testing.T) {
	isolate(t)
	code, stdout, stderr := run(t, "", "token", "check", "--secret", vectorSecret, "--explain", "--url", vectorURL,
		"--header", "Approov-Token: "+vectorToken, "--header", "Signature-Input: "+vectorInput, "--header", "Signature: "+vectorSignature,
		"--header", "Signature-Base-Digest: sha-256=:"+vectorDigest+":")
	want := `verdict: invalid (token_claims_invalid: aud claim present but no audience is configured)
signature install: base sha-256 ` + vectorDigest + `
  "@method": GET
  "@target-uri": ` + vectorURL + `
  "approov-token": [token]
  "@signature-params": ("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256";created=1744292750;expires=1999999999
  Signature-Base-Digest: the same: the app signed this base
signatures: not checked (the token is invalid, so its claims say nothing)
`
	if code != 1 || stderr != "" || !strings.HasSuffix(stdout, "\n"+want) {
		t.Errorf("status %d, stderr %q, stdout\n%s\nwant it to end\n%s", code, stderr, stdout, want)
	}
	if strings.Contains(stdout, vectorToken) || strings.Contains(stdout, strings.Split(vectorToken, ".")[2]) {
		t.Error("the token is printed")
	}
}

// explainRequest is a request signed with sign, to explain.
type explainRequest struct {
	tok    string
	fields []string // --header values, the token's and the signature's included
	uri    string
	body   string
}

// signedRequest signs a POST with a body and an Authorization header.
func signedRequest(t *testing.T, s *signing, tok string, keys ...string) explainRequest {
	t.Helper()
	r := explainRequest{tok: tok, uri: "https://api.example.com/v1/orders?id=7", body: `{"n": 1}`,
		fields: []string{"Approov-Token: " + tok, "Authorization: Bearer abc"}}
	args := []string{"sign"}
	for _, f := range r.fields {
		args = append(args, "--header", f)
	}
	code, stdout, stderr := run(t, "", append(append(args, keys...), "--data", r.body, "POST", r.uri)...)
	if code != 0 || stderr != "" {
		t.Fatalf("sign: status %d, stderr %q", code, stderr)
	}
	r.fields = append(r.fields, strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")...)
	return r
}

// args are the token check --explain arguments for the request.
func (r explainRequest) args(secret string, more ...string) []string {
	args := []string{"token", "check", "--secret", secret, "--explain", "--method", "POST", "--url", r.uri}
	for _, f := range r.fields {
		args = append(args, "--header", f)
	}
	return append(args, more...)
}

// explanations returns what msgsig.Explain says of the request.
func (r explainRequest) explanations(t *testing.T) []msgsig.Explanation {
	t.Helper()
	h := http.Header{}
	for _, f := range r.fields {
		name, value, _ := strings.Cut(f, ": ")
		h.Add(name, value)
	}
	ex, err := msgsig.Explain(&msgsig.Request{Method: "POST", TargetURI: r.uri, Header: h})
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestTokenCheckExplain: --explain prints each label's base as msgsig
// rebuilds it, with the token and credentials hidden, and its SHA-256 as
// msgsig.Explain gives it; then whether the signatures and the body
// verify, which the exit status says too.
func TestTokenCheckExplain(t *testing.T) {
	s := newSigning(t)
	tok := s.token(t, "--ipk", "device.pem", "--mskid", "k")
	r := signedRequest(t, s, tok, "--install-key", "device.pem", "--account-key", s.accountB64)
	ex := r.explanations(t)
	if len(ex) != 2 || ex[0].Label != "install" || ex[1].Label != "account" {
		t.Fatalf("explanations %+v", ex)
	}
	var bases strings.Builder
	for _, e := range ex {
		bases.WriteString("signature " + e.Label + ": base sha-256 " + e.Digest + "\n")
		for _, line := range strings.Split(e.Base, "\n") {
			line = strings.Replace(line, tok, "[token]", 1)
			line = strings.Replace(line, "Bearer abc", "[10 bytes, not shown]", 1)
			bases.WriteString("  " + line + "\n")
		}
	}
	if !strings.Contains(bases.String(), `  "approov-token": [token]`+"\n") || !strings.Contains(bases.String(), `  "authorization": [10 bytes, not shown]`+"\n") {
		t.Fatalf("the bases do not cover the token and Authorization:\n%s", bases.String())
	}
	otherSecret := base64.StdEncoding.EncodeToString(approovSecret())

	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		prints string // what follows the bases
	}{
		{"valid", r.args(s.secretB64, "--data", r.body, "--account-key", s.accountB64), "", 0,
			"signatures: valid (ok: install, account)\nbody: matches Content-Digest (ok)\n"},
		{"token as the argument too", r.args(s.secretB64, tok, "--data", r.body, "--account-key", s.accountB64), "", 0,
			"signatures: valid (ok: install, account)\nbody: matches Content-Digest (ok)\n"},
		{"no body given", r.args(s.secretB64, "--account-key", s.accountB64), "", 0,
			"signatures: valid (ok: install, account)\nbody: not checked: give it with --data or --data-file\n"},
		{"other body", r.args(s.secretB64, "--data", r.body+" ", "--account-key", s.accountB64), "", 1,
			"signatures: valid (ok: install, account)\nbody: invalid (content_digest_mismatch)\n"},
		{"no account key", r.args(s.secretB64, "--data", r.body), "", 1,
			"signatures: invalid (signature_key_unknown: account: the token has mskid but no account key is configured)\n"},
		{"other account key", r.args(s.secretB64, "--data", r.body, "--account-key", base64.StdEncoding.EncodeToString(approovSecret())), "", 1,
			"signatures: invalid (signature_invalid: account: the signature does not verify over the signature base)\n"},
		{"token invalid", r.args(otherSecret, "--data", r.body), "", 1,
			"signatures: not checked (the token is invalid, so its claims say nothing)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.stdin, tt.args...)
			want := bases.String() + tt.prints
			if code != tt.code || stderr != "" || !strings.HasSuffix(stdout, want) {
				t.Errorf("status %d, stderr %q, stdout\n%s\nwant status %d and the end\n%s", code, stderr, stdout, tt.code, want)
			}
			if strings.Contains(stdout, tok) || strings.Contains(stdout, "Bearer abc") || strings.Contains(stdout, s.accountB64) {
				t.Errorf("prints the token, a credential or a key:\n%s", stdout)
			}
		})
	}
}

// approovSecret is a fresh random key.
func approovSecret() []byte { s, _ := newSecret(); return s }

// TestTokenCheckExplainMismatch: what a wrong scheme behind a proxy looks
// like: the base digest differs from the app's, and the hint says where
// to look.
func TestTokenCheckExplainMismatch(t *testing.T) {
	s := newSigning(t)
	tok := s.token(t, "--ipk", "device.pem")
	r := signedRequest(t, s, tok, "--install-key", "device.pem")
	signed := r.explanations(t)[0].Digest
	r.fields = append(r.fields, "Signature-Base-Digest: sha-256=:"+signed+":")
	r.uri = strings.Replace(r.uri, "https:", "http:", 1) // as a gateway behind TLS might rebuild it
	rebuilt := r.explanations(t)[0].Digest
	code, stdout, stderr := run(t, "", r.args(s.secretB64, "--data", r.body)...)
	for _, want := range []string{
		"signature install: base sha-256 " + rebuilt + "\n",
		`  "@target-uri": http://api.example.com/v1/orders?id=7` + "\n",
		"  Signature-Base-Digest: differs: the app signed a base with sha-256 " + signed + " (compare the @target-uri line with the URL the app used)\n",
		"signatures: invalid (signature_invalid: install: the signature does not verify over the signature base)\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if code != 1 || stderr != "" {
		t.Errorf("status %d, stderr %q", code, stderr)
	}

	// --json carries the same, the token hidden likewise.
	code, stdout, _ = run(t, "", r.args(s.secretB64, "--json")...)
	var out struct {
		Valid      bool
		Signatures signatureReport `json:"message_signatures"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	sig := out.Signatures.Signatures
	if code != 1 || !out.Valid || len(sig) != 1 || sig[0].Digest != rebuilt || sig[0].ClientDigest != signed ||
		out.Signatures.Verdict != "invalid" || out.Signatures.Reason != "signature_invalid" ||
		!strings.Contains(sig[0].Base, `"approov-token": [token]`) || strings.Contains(stdout, tok) {
		t.Errorf("status %d, json %s", code, stdout)
	}
}

// TestTokenCheckExplainCases: a request without signatures, one whose
// base cannot be built, and a token that calls for none.
func TestTokenCheckExplainCases(t *testing.T) {
	s := newSigning(t)
	ipk, plain := s.token(t, "--ipk", "device.pem"), s.token(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		prints string
	}{
		{"no signature", []string{"--header", "Approov-Token: " + ipk}, 1,
			"verdict: valid (ok)\nsignature: none to explain (signature_missing: no Signature-Input field)\nsignatures: invalid (signature_missing: no Signature-Input and Signature fields)\n"},
		{"no signature needed", []string{plain}, 0,
			"verdict: valid (ok)\nsignature: none to explain (signature_missing: no Signature-Input field)\nsignatures: none needed (the token has neither ipk nor mskid)\n"},
		{"a base that cannot be built", []string{"--header", "Approov-Token: " + ipk, "--header", `Signature-Input: install=("@method" "x-absent");created=1`, "--header", "Signature: install=:AA==:"}, 1,
			"verdict: valid (ok)\nsignature install: no base (component_missing: install: covered header x-absent is not in the request)\nsignatures: invalid (signature_malformed: install: signature is not 64 bytes)\n"},
		{"token from stdin", []string{"--header", "Authorization: x"}, 1,
			"verdict: valid (ok)\nsignature: none to explain (signature_missing: no Signature-Input field)\nsignatures: invalid (signature_missing: no Signature-Input and Signature fields)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"token", "check", "--secret", s.secretB64, "--explain", "--url", "http://h/"}, tt.args...)
			code, stdout, stderr := run(t, ipk+"\n", args...)
			if code != tt.code || stderr != "" || !strings.HasSuffix(stdout, "\n"+tt.prints) {
				t.Errorf("status %d, stderr %q, stdout\n%s\nwant status %d and the end\n%s", code, stderr, stdout, tt.code, tt.prints)
			}
		})
	}
}

// TestTokenCheckExplainErrors: bad --explain input is one line on
// stderr, status 2, and never a key or the token.
func TestTokenCheckExplainErrors(t *testing.T) {
	s := newSigning(t)
	tok := s.token(t, "--ipk", "device.pem")
	explain := []string{"--explain", "--url", "http://h/", "--header", "Approov-Token: " + tok}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--url without --explain", []string{tok, "--url", "http://h/"}, "--method, --url, --token-header, --account-key, --account-key-file, --data and --data-file are for --explain"},
		{"--data without --explain", []string{tok, "--data", ""}, "--method, --url, --token-header, --account-key, --account-key-file, --data and --data-file are for --explain"},
		{"no --url", []string{tok, "--explain"}, "--explain needs --url, the absolute URL the app requested"},
		{"bad URL", []string{tok, "--explain", "--url", "/x"}, `URL "/x": want an absolute http:// or https:// URL`},
		{"bad method", append([]string{"--method", "G T"}, explain...), `method "G T" is not a valid HTTP method`},
		{"bad header", append([]string{"--header", "x"}, explain...), `--header "x": want 'Name: value'`},
		{"bad token header", append([]string{"--token-header", "a b"}, explain...), `--token-header "a b" is not a valid header name`},
		{"two tokens", append([]string{"x.y.z"}, explain...), "the token differs from the --header Approov-Token: give it once"},
		{"no token", []string{"--explain", "--url", "http://h/"}, "no token: give it as an argument or on stdin"},
		{"two bodies", append([]string{"--data", "a", "--data-file", "b"}, explain...), "use --data or --data-file, not both"},
		{"bad account key", append([]string{"--account-key", leak}, explain...), "--account-key: account key is neither base64 nor base64url"},
		{"short account key", append([]string{"--account-key", leak + "AAA"}, explain...), "--account-key: account key is 12 bytes; at least 32 are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", append([]string{"token", "check", "--secret", s.secretB64}, tt.args...)...)
			want := "approov-gateway token check: " + tt.want + "\n"
			if code != 2 || stdout != "" || stderr != want {
				t.Errorf("status %d, stdout %q, stderr %q\nwant status 2, stderr %q", code, stdout, stderr, want)
			}
			if strings.Contains(stderr, leak) || strings.Contains(stderr, tok) {
				t.Errorf("stderr repeats a key or the token: %q", stderr)
			}
		})
	}
}
