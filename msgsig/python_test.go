package msgsig_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/internal/e2e"
	"github.com/approov-gateway/approov/msgsig"
)

// Python's cryptography package (Debian's python3-cryptography) is an
// implementation of ECDSA, HMAC and SHA-2 independent of Go's. These tests
// build signature bases by hand, have testdata/python_signer.py sign them
// (and compute Content-Digest), and require the Go verifier to accept
// them; and have Python verify what the Go Signer made.

// python is Debian's interpreter; the python3 first on PATH may be another.
const python = "/usr/bin/python3"

func requireCryptography(t *testing.T) {
	t.Helper()
	e2e.Require(t, python)
	if out, err := exec.Command(python, "-c", "import cryptography").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import cryptography: run ./scripts/test, which installs python3-cryptography: %v\n%s", python, err, out)
	}
}

type pythonSign struct {
	Alg    string `json:"alg"`
	Base   string `json:"base"`
	Body   string `json:"body"`
	Digest string `json:"digest"`
}

type pythonVerify struct {
	Alg       string `json:"alg"`
	Base      string `json:"base"`
	Signature string `json:"signature"`
}

type pythonRun struct {
	ECKey      string         `json:"ec_key"`
	AccountKey string         `json:"account_key"`
	Sign       []pythonSign   `json:"sign"`
	Verify     []pythonVerify `json:"verify"`
}

type pythonResult struct {
	Signed []struct {
		Signature     string `json:"signature"`
		ContentDigest string `json:"content_digest"`
	} `json:"signed"`
	Verified []bool `json:"verified"`
}

func runPython(t *testing.T, run *pythonRun) pythonResult {
	t.Helper()
	run.ECKey, run.AccountKey = vectorECKey, vectorSecret
	in, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/python_signer.py")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python_signer.py: %v\n%s", err, stderr.String())
	}
	var res pythonResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("python_signer.py output: %v\n%s", err, out)
	}
	if len(res.Signed) != len(run.Sign) || len(res.Verified) != len(run.Verify) {
		t.Fatalf("python_signer.py answered %d and %d for %d and %d", len(res.Signed), len(res.Verified), len(run.Sign), len(run.Verify))
	}
	return res
}

// pySig is one signature of a case: its Signature-Input member after the
// label, and the lines of its base before @signature-params, by hand.
type pySig struct {
	label string
	form  msgsig.Form
	input string
	lines []string
}

type pyCase struct {
	name           string
	claims         *approov.Claims
	method, target string
	header         http.Header
	bound          []string
	body, digest   string
	sigs           []pySig
}

func algOf(label string) string {
	if label == msgsig.LabelInstall {
		return msgsig.AlgInstall
	}
	return msgsig.AlgAccount
}

func TestPythonSignsGoVerifies(t *testing.T) {
	requireCryptography(t)
	tk := newTokens(t)
	const uri = "https://api.example.com/v1/orders?id=7&tag=a%20b"
	const times = ";created=1744292755;expires=1744292770"
	hdr := func(tok string, pairs ...string) http.Header {
		h := http.Header{"Approov-Token": {tok}}
		for i := 0; i < len(pairs); i += 2 {
			h.Add(pairs[i], pairs[i+1])
		}
		return h
	}
	cases := []pyCase{
		{name: "install, GET, the minimum", claims: tk.cIPK, method: "GET", target: uri, header: hdr(tk.ipk),
			sigs: []pySig{{label: "install", form: msgsig.FormByteSequence,
				input: `("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256"` + times,
				lines: []string{`"@method": GET`, `"@target-uri": ` + uri, `"approov-token": ` + tk.ipk}}}},
		{name: "install, GET, string form, parameters in another order", claims: tk.cIPK, method: "GET", target: uri,
			header: hdr(tk.ipk, "Authorization", authorization), bound: []string{"Authorization"},
			sigs: []pySig{{label: "install", form: msgsig.FormString,
				input: `("approov-token" "@target-uri" "authorization" "@method");expires=1744292770;created=1744292755;alg="ecdsa-p256-sha256";nonce="n-1"`,
				lines: []string{`"approov-token": ` + tk.ipk, `"@target-uri": ` + uri, `"authorization": ` + authorization, `"@method": GET`}}}},
		{name: "account, GET, byte sequence, every derived component", claims: tk.cMSK, method: "GET", target: "https://API.example.com:443/a%2Fb/./c?x=%41",
			header: hdr(tk.msk),
			sigs: []pySig{{label: "account", form: msgsig.FormByteSequence,
				input: `("@method" "@target-uri" "@authority" "@scheme" "@path" "@query" "@request-target" "approov-token");alg="hmac-sha256"` + times,
				lines: []string{`"@method": GET`, `"@target-uri": https://API.example.com:443/a%2Fb/./c?x=%41`, `"@authority": api.example.com`,
					`"@scheme": https`, `"@path": /a%2Fb/./c`, `"@query": ?x=%41`, `"@request-target": /a%2Fb/./c?x=%41`, `"approov-token": ` + tk.msk}}}},
		{name: "account, POST, string form, sha-256 digest", claims: tk.cMSK, method: "POST", target: uri,
			header: hdr(tk.msk, "Content-Type", "application/json", "Content-Length", "23"), body: body, digest: "sha-256 bytes",
			sigs: []pySig{{label: "account", form: msgsig.FormString,
				input: `("@method" "@target-uri" "approov-token" "content-length" "content-type" "content-digest");alg="hmac-sha256"` + times,
				lines: []string{`"@method": POST`, `"@target-uri": ` + uri, `"approov-token": ` + tk.msk, `"content-length": 23`,
					`"content-type": application/json`, `"content-digest": %CONTENT_DIGEST%`}}}},
		{name: "install, PUT, sha-512 digest as a string, repeated header", claims: tk.cIPK, method: "PUT", target: uri,
			header: hdr(tk.ipk, "X-Trace", " a ", "X-Trace", "b,c"), body: strings.Repeat("photo bytes ", 5000), digest: "sha-512 string",
			sigs: []pySig{{label: "install", form: msgsig.FormByteSequence,
				input: `("@method" "@target-uri" "approov-token" "x-trace" "content-digest")` + times,
				lines: []string{`"@method": PUT`, `"@target-uri": ` + uri, `"approov-token": ` + tk.ipk, `"x-trace": a, b,c`, `"content-digest": %CONTENT_DIGEST%`}}}},
		{name: "both labels, both forms", claims: tk.cBoth, method: "DELETE", target: uri, header: hdr(tk.both),
			sigs: []pySig{
				{label: "install", form: msgsig.FormString, input: `("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256"` + times,
					lines: []string{`"@method": DELETE`, `"@target-uri": ` + uri, `"approov-token": ` + tk.both}},
				{label: "account", form: msgsig.FormByteSequence, input: `("approov-token" "@method" "@target-uri")` + times,
					lines: []string{`"approov-token": ` + tk.both, `"@method": DELETE`, `"@target-uri": ` + uri}},
			}},
	}

	run := &pythonRun{Verify: []pythonVerify{}}
	for _, c := range cases {
		for _, s := range c.sigs {
			base := strings.Join(s.lines, "\n") + "\n" + `"@signature-params": ` + s.input
			run.Sign = append(run.Sign, pythonSign{Alg: algOf(s.label), Base: base, Body: c.body, Digest: c.digest})
		}
	}
	res := runPython(t, run)
	v := newVerifier(t)
	k := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &msgsig.Request{Method: c.method, TargetURI: c.target, Header: c.header, BoundHeaders: c.bound}
			var values []string
			for _, s := range c.sigs {
				signed := res.Signed[k]
				k++
				if c.digest != "" {
					r.Header.Set("Content-Digest", signed.ContentDigest)
				}
				r.Header.Add("Signature-Input", s.label+"="+s.input)
				value := s.label + "=:" + signed.Signature + ":"
				if s.form == msgsig.FormString {
					value = s.label + `="` + signed.Signature + `"`
				}
				values = append(values, value)
				r.Header.Add("Signature", value)
			}
			got, err := v.Verify(c.claims, r)
			if err != nil {
				t.Fatalf("Python's signature does not verify: %v", err)
			}
			if got.Install != (c.claims.InstallationPublicKey != "") || got.Account != (c.claims.MessageSigningKeyID != "") {
				t.Errorf("result %+v", got)
			}
			if (got.Digest != nil) != (c.digest != "") {
				t.Fatalf("digest %v for %q", got.Digest, c.digest)
			}
			if got.Digest != nil {
				got.Digest.Write([]byte(c.body))
				if err := got.Digest.Verify(); err != nil {
					t.Errorf("Python's Content-Digest: %v", err)
				}
			}
			// The control: one bit of each signature flipped.
			for i := range values {
				r.Header["Signature"] = append([]string(nil), values...)
				r.Header["Signature"][i] = flipBit(values[i])
				if _, err := v.Verify(c.claims, r); msgsig.Reason(err) != "signature_invalid" {
					t.Errorf("signature %d flipped: %v", i, err)
				}
			}
		})
	}
}

// flipBit changes one bit of the base64 signature in a Signature member.
func flipBit(member string) string {
	i := strings.IndexAny(member, `:"`) + 1
	b64 := strings.TrimRight(member[i:], `:"`)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		panic(err)
	}
	raw[len(raw)/2] ^= 1
	return member[:i] + base64.StdEncoding.EncodeToString(raw) + member[i+len(b64):]
}

func TestGoSignsPythonVerifies(t *testing.T) {
	requireCryptography(t)
	tk := newTokens(t)
	run := &pythonRun{Sign: []pythonSign{}}
	var want []bool
	add := func(alg, base string, sig []byte, ok bool) {
		run.Verify = append(run.Verify, pythonVerify{Alg: alg, Base: base, Signature: base64.StdEncoding.EncodeToString(sig)})
		want = append(want, ok)
	}
	// The vector, over the base Explain rebuilds.
	ex, err := msgsig.Explain(vectorRequest())
	if err != nil {
		t.Fatal(err)
	}
	vecSig := mustDecode(strings.Trim(strings.TrimPrefix(vectorSignature, "install="), ":"))
	add(msgsig.AlgInstall, ex[0].Base, vecSig, true)
	add(msgsig.AlgInstall, ex[0].Base+" ", vecSig, false)
	// What the Signer makes, of each label and form.
	for _, s := range []*msgsig.Signer{installSigner(t), installSigner(t, msgsig.WithForm(msgsig.FormString)), accountSigner(t), accountSigner(t, msgsig.WithForm(msgsig.FormString))} {
		for _, r := range []*msgsig.Request{getRequest(tk.both), postRequest(tk.both)} {
			sig, err := s.Sign(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			i := strings.IndexAny(sig.Value, `:"`) + 1
			raw := mustDecode(strings.TrimRight(sig.Value[i:], `:"`))
			add(algOf(s.Label()), sig.Base, raw, true)
		}
	}
	res := runPython(t, run)
	for i, ok := range res.Verified {
		if ok != want[i] {
			t.Errorf("case %d: Python says %v, want %v", i, ok, want[i])
		}
	}
}
