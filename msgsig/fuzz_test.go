package msgsig_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/msgsig"
	"github.com/dunglas/httpsfv"
)

// fuzzSetup is what FuzzVerify checks against: three requests, whose
// tokens call for an install signature, an account one, and both, and
// every signature base the Signer made for them.
type fuzzSetup struct {
	v        *msgsig.Verifier
	claims   [3]*approov.Claims
	tokens   [3]string
	signed   map[string]bool // label + "\x00" + base
	examples [][2]string     // Signature-Input, Signature pairs the Signer made
}

func newFuzzSetup(tb testing.TB) *fuzzSetup {
	tk := newTokens(tb)
	fs := &fuzzSetup{
		v:      newVerifier(tb),
		claims: [3]*approov.Claims{tk.cIPK, tk.cMSK, tk.cBoth},
		tokens: [3]string{tk.ipk, tk.msk, tk.both},
		signed: map[string]bool{},
	}
	signers := []*msgsig.Signer{
		installSigner(tb), installSigner(tb, msgsig.WithForm(msgsig.FormString)),
		accountSigner(tb), accountSigner(tb, msgsig.WithForm(msgsig.FormString)),
	}
	for _, tok := range fs.tokens {
		var inputs, values []string
		for i, s := range signers {
			for _, components := range [][]string{nil, {"@method", "@target-uri", "approov-token", "authorization", "@query"}} {
				sig, err := s.Sign(getRequest(tok), components)
				if err != nil {
					tb.Fatal(err)
				}
				fs.signed[s.Label()+"\x00"+sig.Base] = true
				fs.examples = append(fs.examples, [2]string{sig.Input, sig.Value})
				if components == nil && i%2 == 0 {
					inputs, values = append(inputs, sig.Input), append(values, sig.Value)
				}
			}
		}
		fs.examples = append(fs.examples, [2]string{strings.Join(inputs, ", "), strings.Join(values, ", ")})
	}
	return fs
}

// FuzzVerify holds Verify to one property over any Signature-Input and
// Signature: whatever it accepts, every signature it verified has a base
// the Signer signed, under that label. Nothing panics; every rejection
// has a reason code.
func FuzzVerify(f *testing.F) {
	fs := newFuzzSetup(f)
	for i, ex := range fs.examples {
		which := uint8(i % 3)
		f.Add(which, ex[0], ex[1])
		f.Add(which, strings.ReplaceAll(ex[0], " ", "  "), ex[1])
		f.Add(which, ex[0]+`, x=("@method");created=1`, ex[1])
		f.Add(which, strings.Replace(ex[0], ";alg=", ";nonce=\"n\";alg=", 1), ex[1])
	}
	f.Add(uint8(0), vectorInput, vectorSignature)
	f.Add(uint8(2), "", "")
	f.Add(uint8(1), `account=();created=1`, `account=:AAAA:`)
	f.Fuzz(func(t *testing.T, which uint8, input, signature string) {
		i := int(which) % 3
		r := getRequest(fs.tokens[i])
		r.Header["Signature-Input"] = []string{input}
		r.Header["Signature"] = []string{signature}
		res, err := fs.v.Verify(fs.claims[i], r)
		if err != nil {
			if msgsig.Reason(err) == msgsig.ReasonOther {
				t.Fatalf("error without a reason code: %v", err)
			}
			return
		}
		ex, err := msgsig.Explain(r)
		if err != nil {
			t.Fatalf("accepted, but Explain fails: %v", err)
		}
		verified := map[string]bool{msgsig.LabelInstall: res.Install, msgsig.LabelAccount: res.Account}
		for _, e := range ex {
			if verified[e.Label] && !fs.signed[e.Label+"\x00"+e.Base] {
				t.Fatalf("accepted a %s signature over a base the Signer never signed:\n%s", e.Label, e.Base)
			}
		}
		if !res.Install && !res.Account {
			t.Fatalf("accepted with nothing verified")
		}
	})
}

// FuzzSignatureBase builds the signature base of any Signature-Input over
// a request with any target URI and header value, and requires of every
// base built: ASCII lines, one per covered component and a last
// @signature-params line whose value is a canonical serialisation (it
// parses and serialises back to itself), and the same base from that
// canonical Signature-Input. Nothing panics.
func FuzzSignatureBase(f *testing.F) {
	f.Add(vectorInput, vectorTarget, "value")
	f.Add(`sig=("@method" "@target-uri" "@authority" "@scheme" "@path" "@query" "@request-target" "x-fuzz");created=1;expires=2;alg="hmac-sha256"`, "https://API.example.com:443/a?b", " a , b ")
	f.Add(`sig=( "x-fuzz"  "@query" );created=1;d=1.5;t=tok;b=:AQID:;f;n="\"\\"`, "http://[::1]:80", "")
	f.Add(`a=("@method"), b=("@path");created=-5, c=(x)`, "https://h", "\t")
	f.Fuzz(func(t *testing.T, input, target, value string) {
		h := http.Header{"Approov-Token": {vectorToken}, "Signature-Input": {input}}
		h["X-Fuzz"] = strings.Split(value, "\x00")
		r := &msgsig.Request{Method: "POST", TargetURI: target, Header: h}
		ex, err := msgsig.Explain(r)
		if err != nil {
			return
		}
		for _, e := range ex {
			if e.Err != nil {
				if msgsig.Reason(e.Err) == msgsig.ReasonOther {
					t.Fatalf("error without a reason code: %v", e.Err)
				}
				continue
			}
			lines := strings.Split(e.Base, "\n")
			last := lines[len(lines)-1]
			params, ok := strings.CutPrefix(last, `"@signature-params": `)
			if !ok {
				t.Fatalf("last line %q", last)
			}
			d, err := httpsfv.UnmarshalDictionary([]string{e.Label + "=" + params})
			if err != nil {
				t.Fatalf("the @signature-params value %q does not parse: %v", params, err)
			}
			m, _ := d.Get(e.Label)
			list, ok := m.(httpsfv.InnerList)
			if !ok {
				t.Fatalf("%q is not an inner list", params)
			}
			if again, err := httpsfv.Marshal(list); err != nil || again != params {
				t.Fatalf("%q serialises to %q (%v)", params, again, err)
			}
			if len(lines) != len(list.Items)+1 {
				t.Fatalf("%d lines for %d components:\n%s", len(lines), len(list.Items), e.Base)
			}
			for i, line := range lines[:len(lines)-1] {
				name := list.Items[i].Value.(string)
				if !strings.HasPrefix(line, `"`+name+`": `) {
					t.Fatalf("line %d %q is not for %s", i, line, name)
				}
			}
			if i := strings.IndexFunc(e.Base, func(c rune) bool { return c >= 0x80 || c == '\r' }); i >= 0 {
				t.Fatalf("byte %#x in the base", e.Base[i])
			}
			h2 := r.Header.Clone()
			h2["Signature-Input"] = []string{e.Label + "=" + params}
			ex2, err := msgsig.Explain(&msgsig.Request{Method: r.Method, TargetURI: r.TargetURI, Header: h2})
			if err != nil || len(ex2) != 1 || ex2[0].Base != e.Base {
				t.Fatalf("the canonical Signature-Input gives another base: %v %+v", err, ex2)
			}
		}
	})
}

// FuzzContentDigest holds the Content-Digest check to its property: it
// accepts a body only when the field has a sha-256 or sha-512 member and
// every such member holds that body's digest.
func FuzzContentDigest(f *testing.F) {
	f.Add(msgsig.ContentDigest([]byte(body)), body)
	f.Add(`sha-256="47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="`, "")
	f.Add("sha-512=:AAAA:, sha-256=:AAAA:", "x")
	f.Fuzz(func(t *testing.T, value, data string) {
		err := msgsig.VerifyContentDigest(value, strings.NewReader(data))
		if err != nil {
			if msgsig.Reason(err) == msgsig.ReasonOther {
				t.Fatalf("error without a reason code: %v", err)
			}
			return
		}
		d, perr := httpsfv.UnmarshalDictionary([]string{value})
		if perr != nil {
			t.Fatalf("accepted %q, which does not parse: %v", value, perr)
		}
		s256, s512 := sha256.Sum256([]byte(data)), sha512.Sum512([]byte(data))
		found := 0
		for name, want := range map[string][]byte{"sha-256": s256[:], "sha-512": s512[:]} {
			m, ok := d.Get(name)
			if !ok {
				continue
			}
			found++
			var got []byte
			switch v := m.(httpsfv.Item).Value.(type) {
			case []byte:
				got = v
			case string:
				got, _ = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("accepted %q for a body whose %s is %x", value, name, want)
			}
		}
		if found == 0 {
			t.Fatalf("accepted %q, which has no sha-256 or sha-512", value)
		}
	})
}
