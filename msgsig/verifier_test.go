package msgsig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/msgsig"
)

const (
	target = "https://api.example.com/v1/orders?id=7&tag=a%20b"
	body   = `{"item":"book","qty":2}`
)

// tokens are the tokens of the tests, verified: one per combination of
// the claims that call for signatures.
type tokens struct {
	ipk, msk, both, none, ipk2 string
	cIPK, cMSK, cBoth, cNone   *approov.Claims
	cIPK2                      *approov.Claims
}

func newTokens(tb testing.TB) *tokens {
	var t tokens
	t.ipk, t.cIPK = tokenFor(tb, map[string]any{"ipk": vectorIPK})
	t.msk, t.cMSK = tokenFor(tb, map[string]any{"mskid": accountKeyID})
	t.both, t.cBoth = tokenFor(tb, map[string]any{"ipk": vectorIPK, "mskid": accountKeyID})
	t.none, t.cNone = tokenFor(tb, nil)
	// A second token of the same installation.
	t.ipk2, t.cIPK2 = tokenFor(tb, map[string]any{"ipk": vectorIPK, "did": "another token"})
	return &t
}

// getRequest returns GET target with the token and an Authorization.
func getRequest(tok string) *msgsig.Request {
	return newRequest("GET", target, tok, "Authorization", authorization, "Accept", "application/json")
}

// postRequest returns POST target with the token, a JSON body's
// Content-Type, Content-Length and Content-Digest.
func postRequest(tok string) *msgsig.Request {
	return newRequest("POST", target, tok, "Authorization", authorization, "Content-Type", "application/json",
		"Content-Length", "23", "Content-Digest", msgsig.ContentDigest([]byte(body)))
}

// sigCase is a request, the claims of its token, a verifier and the
// reason code Verify must give.
type sigCase struct {
	name     string
	claims   *approov.Claims
	request  func() *msgsig.Request
	opts     []msgsig.VerifierOption
	reason   string
	check    func(t *testing.T, res msgsig.Result)
	bodyRead string // for requests whose digest is checked: the body received
	// noAccountKey leaves the verifier without an account key.
	noAccountKey bool
}

func signedWith(tb testing.TB, r *msgsig.Request, components []string, signers ...*msgsig.Signer) *msgsig.Request {
	for _, s := range signers {
		sign(tb, s, r, components)
	}
	return r
}

// rawRequest returns getRequest(tok) with the signature fields given.
func rawRequest(tok, input, signature string) *msgsig.Request {
	r := getRequest(tok)
	if input != "" {
		r.Header.Set("Signature-Input", input)
	}
	if signature != "" {
		r.Header.Set("Signature", signature)
	}
	return r
}

// installCovered is a Signature-Input member covering the minimum, to
// which the cases append parameters.
const installCovered = `install=("@method" "@target-uri" "approov-token" "authorization")`

func sigCases(t testing.TB) []sigCase {
	tk := newTokens(t)
	inst, acct := installSigner(t), accountSigner(t)
	instStr, acctStr := installSigner(t, msgsig.WithForm(msgsig.FormString)), accountSigner(t, msgsig.WithForm(msgsig.FormString))
	at := func(d time.Duration, opts ...msgsig.SignerOption) *msgsig.Signer {
		return installSigner(t, append([]msgsig.SignerOption{msgsig.WithClock(func() time.Time { return now.Add(d) })}, opts...)...)
	}
	get := func(tok string, signers ...*msgsig.Signer) func() *msgsig.Request {
		return func() *msgsig.Request { return signedWith(t, getRequest(tok), nil, signers...) }
	}
	// edit signs getRequest(tok) with s, then changes it.
	edit := func(tok string, s *msgsig.Signer, change func(r *msgsig.Request)) func() *msgsig.Request {
		return func() *msgsig.Request {
			r := signedWith(t, getRequest(tok), nil, s)
			change(r)
			return r
		}
	}
	over := func(tok string, s *msgsig.Signer, components ...string) func() *msgsig.Request {
		return func() *msgsig.Request { return signedWith(t, getRequest(tok), components, s) }
	}
	raw := func(tok, input, signature string) func() *msgsig.Request {
		return func() *msgsig.Request { return rawRequest(tok, input, signature) }
	}
	// sig64 is a Signature of 64 arbitrary bytes: the checks before the
	// cryptography never look at them.
	sig64 := `install=:` + base64.StdEncoding.EncodeToString(make([]byte, 64)) + `:`
	params := `;alg="ecdsa-p256-sha256";created=1744292760;expires=1744292775`
	want := func(install, account, digest bool) func(*testing.T, msgsig.Result) {
		return func(t *testing.T, res msgsig.Result) {
			if res.Install != install || res.Account != account || (res.Digest != nil) != digest {
				t.Errorf("result %+v, want install %v, account %v, digest %v", res, install, account, digest)
			}
		}
	}
	bound := []string{"authorization"}
	withBound := func(f func() *msgsig.Request, names ...string) func() *msgsig.Request {
		return func() *msgsig.Request { r := f(); r.BoundHeaders = names; return r }
	}
	post := func(tok string, signers ...*msgsig.Signer) func() *msgsig.Request {
		return func() *msgsig.Request { return signedWith(t, postRequest(tok), nil, signers...) }
	}
	otherIPK := ipkOf(otherKey)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	claimsWith := func(c *approov.Claims, ipk, mskid string) *approov.Claims {
		cc := *c
		cc.InstallationPublicKey, cc.MessageSigningKeyID = ipk, mskid
		return &cc
	}
	return []sigCase{
		// Valid requests.
		{name: "install, byte sequence", claims: tk.cIPK, request: get(tk.ipk, inst), reason: "ok", check: want(true, false, false)},
		{name: "install, string", claims: tk.cIPK, request: get(tk.ipk, instStr), reason: "ok", check: want(true, false, false)},
		{name: "install, string without padding", claims: tk.cIPK, request: edit(tk.ipk, instStr, func(r *msgsig.Request) {
			r.Header.Set("Signature", strings.TrimSuffix(r.Header.Get("Signature"), `=="`)+`"`)
		}), reason: "ok"},
		{name: "account, string without padding", claims: tk.cMSK, request: edit(tk.msk, acctStr, func(r *msgsig.Request) {
			r.Header.Set("Signature", strings.TrimSuffix(r.Header.Get("Signature"), `="`)+`"`)
		}), reason: "ok"},
		{name: "account, byte sequence", claims: tk.cMSK, request: get(tk.msk, acct), reason: "ok", check: want(false, true, false)},
		{name: "account, string", claims: tk.cMSK, request: get(tk.msk, acctStr), reason: "ok", check: want(false, true, false)},
		{name: "both labels, both forms", claims: tk.cBoth, request: get(tk.both, inst, acctStr), reason: "ok", check: want(true, true, false)},
		{name: "both labels in one field each", claims: tk.cBoth, request: func() *msgsig.Request {
			r := get(tk.both, instStr, acct)()
			r.Header["Signature-Input"] = []string{strings.Join(r.Header["Signature-Input"], ", ")}
			r.Header["Signature"] = []string{strings.Join(r.Header["Signature"], ",")}
			return r
		}, reason: "ok", check: want(true, true, false)},
		{name: "ipk token, account signature too: only install needed", claims: tk.cIPK, request: get(tk.ipk, acct, inst), reason: "ok", check: want(true, false, false)},
		{name: "POST with a covered digest", claims: tk.cIPK, request: post(tk.ipk, inst), reason: "ok", check: want(true, false, true), bodyRead: body},
		{name: "POST, the body changed", claims: tk.cIPK, request: post(tk.ipk, inst), reason: "content_digest_mismatch", bodyRead: body + " "},
		{name: "POST, account, body changed", claims: tk.cMSK, request: post(tk.msk, acct), reason: "content_digest_mismatch", bodyRead: "{}"},
		{name: "bound header covered", claims: tk.cIPK, request: withBound(get(tk.ipk, inst), "Authorization"), reason: "ok"},
		{name: "bound header absent, not covered", claims: tk.cIPK, request: withBound(over(tk.ipk, inst, "@method", "@target-uri", "approov-token"), "X-User"), reason: "ok"},
		{name: "another label is ignored", claims: tk.cIPK, request: func() *msgsig.Request {
			r := get(tk.ipk, inst)()
			r.Header.Add("Signature-Input", `sig1=("@method");created=1`)
			r.Header.Add("Signature", `sig1=:AAAA:`)
			return r
		}, reason: "ok"},
		{name: "auto, token without ipk or mskid, no signature", claims: tk.cNone, request: func() *msgsig.Request { return getRequest(tk.none) }, reason: "ok", check: want(false, false, false)},
		{name: "off, ipk token without signature", claims: tk.cIPK, opts: []msgsig.VerifierOption{msgsig.WithPolicy(msgsig.Off)}, request: func() *msgsig.Request { return getRequest(tk.ipk) }, reason: "ok"},
		{name: "required, token with neither, account signature", claims: tk.cNone, opts: []msgsig.VerifierOption{msgsig.WithPolicy(msgsig.Required)}, request: get(tk.none, acct), reason: "ok", check: want(false, true, false)},
		{name: "mskid, no key id configured", claims: tk.cMSK, request: get(tk.msk, acct), reason: "ok"},
		{name: "multiple instances of a covered header", claims: tk.cIPK, request: func() *msgsig.Request {
			r := getRequest(tk.ipk)
			r.Header["X-Trace"] = []string{" a ", "b,c\t", ""}
			return signedWith(t, r, []string{"@method", "@target-uri", "approov-token", "x-trace"}, inst)
		}, reason: "ok"},
		{name: "every derived component", claims: tk.cIPK, request: over(tk.ipk, inst, "@method", "@target-uri", "@authority", "@scheme", "@path", "@query", "@request-target", "approov-token"), reason: "ok"},
		{name: "created at now plus the tolerance", claims: tk.cIPK, request: get(tk.ipk, at(msgsig.DefaultTolerance)), reason: "ok"},
		{name: "expires at now minus the tolerance", claims: tk.cIPK, request: get(tk.ipk, at(-msgsig.DefaultTolerance-msgsig.DefaultLifetime)), reason: "ok"},
		{name: "no expires", claims: tk.cIPK, request: get(tk.ipk, at(-time.Hour, msgsig.WithLifetime(0))), reason: "ok"},
		{name: "created at the maximum age", claims: tk.cIPK, opts: []msgsig.VerifierOption{msgsig.WithMaxAge(30 * time.Second)}, request: get(tk.ipk, at(-90*time.Second, msgsig.WithLifetime(0))), reason: "ok"},

		// signature_missing
		{name: "ipk token, no signature", claims: tk.cIPK, request: func() *msgsig.Request { return getRequest(tk.ipk) }, reason: "signature_missing"},
		{name: "ipk token, account signature only", claims: tk.cIPK, request: get(tk.ipk, acct), reason: "signature_missing"},
		{name: "mskid token, install signature only", claims: tk.cMSK, request: get(tk.msk, inst), reason: "signature_missing"},
		{name: "both claims, install only", claims: tk.cBoth, request: get(tk.both, inst), reason: "signature_missing"},
		{name: "required, token with neither, no signature", claims: tk.cNone, opts: []msgsig.VerifierOption{msgsig.WithPolicy(msgsig.Required)}, request: func() *msgsig.Request { return getRequest(tk.none) }, reason: "signature_missing"},
		{name: "required, token with neither, install signature", claims: tk.cNone, opts: []msgsig.VerifierOption{msgsig.WithPolicy(msgsig.Required)}, request: get(tk.none, inst), reason: "signature_missing"},

		// signature_malformed
		{name: "Signature-Input only", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, ""), reason: "signature_malformed"},
		{name: "Signature only", claims: tk.cIPK, request: raw(tk.ipk, "", sig64), reason: "signature_malformed"},
		{name: "Signature-Input not a dictionary", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method"`, sig64), reason: "signature_malformed"},
		{name: "Signature not a dictionary", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, `install=:AAAA`), reason: "signature_malformed"},
		{name: "Signature-Input too large", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params+`;x="`+strings.Repeat("a", msgsig.MaxFieldSize)+`"`, sig64), reason: "signature_malformed"},
		{name: "Signature too large", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, sig64+`, x="`+strings.Repeat("a", msgsig.MaxFieldSize)+`"`), reason: "signature_malformed"},
		{name: "label in Signature-Input only", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, `other=:AAAA:`), reason: "signature_malformed"},
		{name: "label in Signature only", claims: tk.cIPK, request: raw(tk.ipk, `other=("@method");created=1`, sig64), reason: "signature_malformed"},
		{name: "member is not an inner list", claims: tk.cIPK, request: raw(tk.ipk, `install="@method";created=1744292760`, sig64), reason: "signature_malformed"},
		{name: "component is a token", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" approov-token)`+params, sig64), reason: "signature_malformed"},
		{name: "component is empty", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token" "")`+params, sig64), reason: "signature_malformed"},
		{name: "component is not a header name", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token" "a b")`+params, sig64), reason: "signature_malformed"},
		{name: "header name in upper case", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "Approov-Token")`+params, sig64), reason: "signature_malformed"},
		{name: "component covered twice", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token" "@method")`+params, sig64), reason: "signature_malformed"},
		{name: "@signature-params covered", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token" "@signature-params")`+params, sig64), reason: "signature_malformed"},
		{name: "too many components", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token"`+strings.Repeat(` "x"`, 40)+`)`+params, sig64), reason: "signature_malformed"},
		{name: "no created", claims: tk.cIPK, request: raw(tk.ipk, installCovered+`;alg="ecdsa-p256-sha256";expires=1744292775`, sig64), reason: "signature_malformed"},
		{name: "created is a decimal", claims: tk.cIPK, request: raw(tk.ipk, installCovered+`;created=1744292760.5`, sig64), reason: "signature_malformed"},
		{name: "created is a string", claims: tk.cIPK, request: raw(tk.ipk, installCovered+`;created="1744292760"`, sig64), reason: "signature_malformed"},
		{name: "expires is a string", claims: tk.cIPK, request: raw(tk.ipk, installCovered+`;created=1744292760;expires="1744292775"`, sig64), reason: "signature_malformed"},
		{name: "expires before created", claims: tk.cIPK, request: raw(tk.ipk, installCovered+`;created=1744292760;expires=1744292759`, sig64), reason: "signature_malformed"},
		{name: "alg of the other label", claims: tk.cIPK, request: raw(tk.ipk, installCovered+`;alg="hmac-sha256";created=1744292760`, sig64), reason: "signature_malformed"},
		{name: "alg is a token", claims: tk.cIPK, request: raw(tk.ipk, installCovered+`;alg=ecdsa-p256-sha256;created=1744292760`, sig64), reason: "signature_malformed"},
		{name: "Signature member is an integer", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, `install=7`), reason: "signature_malformed"},
		{name: "Signature member is an inner list", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, `install=(:AAAA:)`), reason: "signature_malformed"},
		{name: "Signature string too long", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, `install="`+base64.StdEncoding.EncodeToString(make([]byte, 67))+`"`), reason: "signature_malformed"},
		{name: "Signature string is not base64", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, `install="not base64!"`), reason: "signature_malformed"},
		{name: "signature of 63 bytes", claims: tk.cIPK, request: raw(tk.ipk, installCovered+params, `install=:`+base64.StdEncoding.EncodeToString(make([]byte, 63))+`:`), reason: "signature_malformed"},
		{name: "signature in DER, not r||s", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) {
			der, _ := ecdsa.SignASN1(rand.Reader, installKey, make([]byte, 32))
			r.Header.Set("Signature", `install=:`+base64.StdEncoding.EncodeToString(der)+`:`)
		}), reason: "signature_malformed"},
		{name: "account signature of 64 bytes", claims: tk.cMSK, request: edit(tk.msk, acct, func(r *msgsig.Request) {
			r.Header.Set("Signature", `account=:`+base64.StdEncoding.EncodeToString(make([]byte, 64))+`:`)
		}), reason: "signature_malformed"},
		{name: "byte sequence without padding (httpsfv refuses it)", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) {
			r.Header.Set("Signature", strings.TrimRight(strings.TrimSuffix(r.Header.Get("Signature"), ":"), "=")+":")
		}), reason: "signature_malformed"},

		// signature_invalid
		{name: "method changed", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.Method = "DELETE" }), reason: "signature_invalid"},
		{name: "path changed", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.TargetURI = strings.Replace(r.TargetURI, "orders", "Orders", 1) }), reason: "signature_invalid"},
		{name: "query changed", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.TargetURI += "&admin=1" }), reason: "signature_invalid"},
		{name: "scheme changed (http behind a TLS proxy)", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.TargetURI = "http" + strings.TrimPrefix(r.TargetURI, "https") }), reason: "signature_invalid"},
		{name: "host changed", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.TargetURI = strings.Replace(r.TargetURI, "api.", "internal.", 1) }), reason: "signature_invalid"},
		{name: "port added", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.TargetURI = strings.Replace(r.TargetURI, ".com/", ".com:8443/", 1) }), reason: "signature_invalid"},
		{name: "another token of the same installation", claims: tk.cIPK2, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.Header.Set("Approov-Token", tk.ipk2) }), reason: "signature_invalid"},
		{name: "Authorization changed", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.Header.Set("Authorization", "Bearer mallory") }), reason: "signature_invalid"},
		{name: "Authorization sent twice", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.Header.Add("Authorization", "Bearer mallory") }), reason: "signature_invalid"},
		{name: "Content-Digest changed with the body", claims: tk.cIPK, request: func() *msgsig.Request {
			r := post(tk.ipk, inst)()
			r.Header.Set("Content-Digest", msgsig.ContentDigest([]byte("{}")))
			return r
		}, reason: "signature_invalid"},
		{name: "multiple instances reordered", claims: tk.cIPK, request: func() *msgsig.Request {
			r := getRequest(tk.ipk)
			r.Header["X-Trace"] = []string{"a", "b"}
			signedWith(t, r, []string{"@method", "@target-uri", "approov-token", "x-trace"}, inst)
			r.Header["X-Trace"] = []string{"b", "a"}
			return r
		}, reason: "signature_invalid"},
		{name: "multiple instances joined", claims: tk.cIPK, request: func() *msgsig.Request {
			r := getRequest(tk.ipk)
			r.Header["X-Trace"] = []string{"a", "b"}
			signedWith(t, r, []string{"@method", "@target-uri", "approov-token", "x-trace"}, inst)
			r.Header["X-Trace"] = []string{"a,b"}
			return r
		}, reason: "signature_invalid"},
		{name: "created changed", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), "created=1744292760", "created=1744292761", 1))
		}), reason: "signature_invalid"},
		{name: "component order changed", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `"@method" "@target-uri"`, `"@target-uri" "@method"`, 1))
		}), reason: "signature_invalid"},
		{name: "signed by another installation", claims: tk.cIPK, request: get(tk.ipk, mustSigner(msgsig.NewInstallSigner(otherKey, msgsig.WithClock(clock)))), reason: "signature_invalid"},
		{name: "install signature of the other installation's token", claims: claimsWith(tk.cIPK, otherIPK, ""), request: get(tk.ipk, inst), reason: "signature_invalid"},
		{name: "account signature with another key", claims: tk.cMSK, request: get(tk.msk, mustSigner(msgsig.NewAccountSigner([]byte("another account key, 32 bytes or more"), msgsig.WithClock(clock)))), reason: "signature_invalid"},
		{name: "both labels, account forged", claims: tk.cBoth, request: get(tk.both, inst, mustSigner(msgsig.NewAccountSigner([]byte("another account key, 32 bytes or more"), msgsig.WithClock(clock)))), reason: "signature_invalid"},
		{name: "both labels, install forged", claims: tk.cBoth, request: get(tk.both, acct, mustSigner(msgsig.NewInstallSigner(otherKey, msgsig.WithClock(clock)))), reason: "signature_invalid"},
		{name: "covered value not ASCII", claims: tk.cIPK, request: func() *msgsig.Request {
			r := getRequest(tk.ipk)
			r.Header.Set("X-Note", "cafe")
			signedWith(t, r, []string{"@method", "@target-uri", "approov-token", "x-note"}, inst)
			r.Header.Set("X-Note", "caf\xc3\xa9")
			return r
		}, reason: "signature_invalid"},
		{name: "target URI not absolute, @path covered", claims: tk.cIPK, request: func() *msgsig.Request {
			r := over(tk.ipk, inst, "@method", "@target-uri", "@path", "approov-token")()
			r.TargetURI = "/v1/orders"
			return r
		}, reason: "signature_invalid"},

		// signature_expired, signature_not_yet_valid
		{name: "expired", claims: tk.cIPK, request: get(tk.ipk, at(-msgsig.DefaultTolerance-msgsig.DefaultLifetime-time.Second)), reason: "signature_expired"},
		{name: "older than the maximum age", claims: tk.cIPK, opts: []msgsig.VerifierOption{msgsig.WithMaxAge(30 * time.Second)}, request: get(tk.ipk, at(-91*time.Second, msgsig.WithLifetime(0))), reason: "signature_expired"},
		{name: "created ahead", claims: tk.cIPK, request: get(tk.ipk, at(msgsig.DefaultTolerance+time.Second)), reason: "signature_not_yet_valid"},
		{name: "created ahead, no tolerance", claims: tk.cIPK, opts: []msgsig.VerifierOption{msgsig.WithTolerance(0)}, request: get(tk.ipk, at(time.Second)), reason: "signature_not_yet_valid"},
		{name: "the vector, at its created plus a day", claims: tk.cIPK, opts: []msgsig.VerifierOption{msgsig.WithMaxAge(time.Hour), msgsig.WithClock(func() time.Time { return now.Add(24 * time.Hour) })},
			request: func() *msgsig.Request { return vectorRequest() }, reason: "signature_expired"},

		// signature_key_invalid, signature_key_unknown
		{name: "ipk not base64", claims: claimsWith(tk.cIPK, "not base64!", ""), request: get(tk.ipk, inst), reason: "signature_key_invalid"},
		{name: "ipk not DER", claims: claimsWith(tk.cIPK, base64.StdEncoding.EncodeToString([]byte("not DER")), ""), request: get(tk.ipk, inst), reason: "signature_key_invalid"},
		{name: "ipk an RSA key", claims: claimsWith(tk.cIPK, base64.StdEncoding.EncodeToString(rsaDER), ""), request: get(tk.ipk, inst), reason: "signature_key_invalid"},
		{name: "ipk a P-384 key", claims: claimsWith(tk.cIPK, base64.StdEncoding.EncodeToString(p384DER), ""), request: get(tk.ipk, inst), reason: "signature_key_invalid"},
		{name: "ipk a point off the curve", claims: claimsWith(tk.cIPK, offCurveIPK(), ""), request: get(tk.ipk, inst), reason: "signature_key_invalid"},
		{name: "mskid of another key", claims: claimsWith(tk.cMSK, "", "account-key-2"), request: get(tk.msk, acct), reason: "signature_key_unknown"},
		{name: "mskid, no account key configured", claims: tk.cMSK, noAccountKey: true, request: get(tk.msk, acct), reason: "signature_key_unknown"},
		{name: "required, token with neither, no account key configured", claims: tk.cNone, noAccountKey: true, opts: []msgsig.VerifierOption{msgsig.WithPolicy(msgsig.Required)}, request: get(tk.none, acct), reason: "signature_missing"},
		{name: "auto, ipk token, no account key configured", claims: tk.cIPK, noAccountKey: true, request: get(tk.ipk, inst), reason: "ok"},

		// component_missing
		{name: "@method not covered", claims: tk.cIPK, request: over(tk.ipk, inst, "@target-uri", "approov-token"), reason: "component_missing"},
		{name: "@target-uri not covered", claims: tk.cIPK, request: over(tk.ipk, inst, "@method", "@authority", "@path", "@query", "approov-token"), reason: "component_missing"},
		{name: "token not covered", claims: tk.cIPK, request: over(tk.ipk, inst, "@method", "@target-uri", "authorization"), reason: "component_missing"},
		{name: "token covered under the default name, configured otherwise", claims: tk.cIPK, opts: []msgsig.VerifierOption{msgsig.WithTokenHeader("X-Approov")}, request: get(tk.ipk, inst), reason: "component_missing"},
		{name: "bound header not covered", claims: tk.cIPK, request: withBound(over(tk.ipk, inst, "@method", "@target-uri", "approov-token"), bound...), reason: "component_missing"},
		{name: "bound header not covered, account", claims: tk.cMSK, request: withBound(over(tk.msk, acct, "@method", "@target-uri", "approov-token"), "AUTHORIZATION"), reason: "component_missing"},
		{name: "covered header removed", claims: tk.cIPK, request: edit(tk.ipk, inst, func(r *msgsig.Request) { r.Header.Del("Authorization") }), reason: "component_missing"},

		// component_unsupported
		{name: "@query-param", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token" "@query-param";name="id")`+params, sig64), reason: "component_unsupported"},
		{name: "@status", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token" "@status")`+params, sig64), reason: "component_unsupported"},
		{name: "unknown derived component", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token" "@body")`+params, sig64), reason: "component_unsupported"},
		{name: "header with ;sf", claims: tk.cIPK, request: raw(tk.ipk, `install=("@method" "@target-uri" "approov-token" "content-digest";sf)`+params, sig64), reason: "component_unsupported"},

		// content_digest_*
		{name: "digest covered, only md5", claims: tk.cIPK, request: func() *msgsig.Request {
			r := postRequest(tk.ipk)
			r.Header.Set("Content-Digest", "md5=:AAAAAAAAAAAAAAAAAAAAAA==:")
			return signedWith(t, r, nil, inst)
		}, reason: "content_digest_missing"},
		{name: "digest covered, too short", claims: tk.cIPK, request: func() *msgsig.Request {
			r := postRequest(tk.ipk)
			r.Header.Set("Content-Digest", "sha-256=:AAAA:")
			return signedWith(t, r, nil, inst)
		}, reason: "content_digest_malformed"},
		{name: "digest covered, not a dictionary", claims: tk.cIPK, request: func() *msgsig.Request {
			r := postRequest(tk.ipk)
			r.Header.Set("Content-Digest", "sha-256")
			r.Header.Add("Content-Digest", "=x")
			return signedWith(t, r, nil, inst)
		}, reason: "content_digest_malformed"},
	}
}

func mustSigner(s *msgsig.Signer, err error) *msgsig.Signer {
	if err != nil {
		panic(err)
	}
	return s
}

// offCurveIPK returns the ipk of the vector key with its point's last
// byte changed: a well-formed SubjectPublicKeyInfo of no P-256 point.
func offCurveIPK() string {
	der := mustDecode(vectorIPK)
	der[len(der)-1] ^= 1
	return base64.StdEncoding.EncodeToString(der)
}

func TestVerify(t *testing.T) {
	seen := map[string]int{}
	for _, tc := range sigCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, tc.opts...)
			if tc.noAccountKey {
				var err error
				if v, err = msgsig.NewVerifier(append([]msgsig.VerifierOption{msgsig.WithClock(clock)}, tc.opts...)...); err != nil {
					t.Fatal(err)
				}
			}
			// Checks says whether Verify looks at the request at all:
			// with nothing to rebuild it from, Verify fails when it
			// does, and passes with an empty result when it does not.
			if _, err := v.Verify(tc.claims, &msgsig.Request{}); (err != nil) != v.Checks(tc.claims) {
				t.Errorf("Checks %v, but Verify of an empty request: %v", v.Checks(tc.claims), err)
			}
			res, verr := v.Verify(tc.claims, tc.request())
			if !v.Checks(tc.claims) && (verr != nil || res.Install || res.Account || res.Digest != nil) {
				t.Errorf("Checks false, but Verify gave %+v, %v", res, verr)
			}
			if verr != nil && (res.Install || res.Account || res.Digest != nil) {
				t.Errorf("a failure with a result: %+v", res)
			}
			err := verr
			if err == nil && res.Digest != nil && tc.bodyRead != "" {
				res.Digest.Write([]byte(tc.bodyRead))
				err = res.Digest.Verify()
			}
			got := msgsig.Reason(err)
			t.Logf("%s: %v", got, err)
			seen[got]++
			if got != tc.reason {
				t.Fatalf("reason %s (%v), want %s", got, err, tc.reason)
			}
			if err != nil {
				var e *msgsig.Error
				if !errors.As(err, &e) || !errors.Is(err, msgsig.ErrorFor(tc.reason)) {
					t.Errorf("%v is not an *Error wrapping its sentinel", err)
				}
				if strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), "alice") {
					t.Errorf("the error shows a token or a header value: %v", err)
				}
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
	for _, code := range append(msgsig.Reasons(), msgsig.ReasonOK) {
		if seen[code] == 0 {
			t.Errorf("no case gives %s", code)
		}
	}
}
