package assertion

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/approov-gateway/approov/internal/ijson"
)

// The claims are written by hand, so these tests hold the writer to
// encoding/json: whatever strings go in (and they come from clients:
// device ids, paths, hosts), encoding/json reads back the same values,
// or Sign refuses because a string is not valid UTF-8.

var jsonSeeds = []string{
	"", "plain", `"quoted"`, `back\slash`, "\x00\x01\x1f\x7f", "\n\r\t\b\f", "é☃\U0001F600",
	"\u2028\u2029", "</script>", "\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "a\xffb\"c",
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := appendString([]byte("prefix"), s)
		if !strings.HasPrefix(string(out), "prefix") {
			t.Fatal("appendString dropped what came before")
		}
		out = out[len("prefix"):]
		if ok != utf8.ValidString(s) {
			t.Fatalf("%q: ok = %v", s, ok)
		}
		if !ok {
			return
		}
		if err := ijson.Valid(out); err != nil {
			t.Fatalf("%q: %s is not I-JSON: %v", s, out, err)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil || got != s {
			t.Fatalf("%q: encoding/json read %s as %q, %v", s, out, got, err)
		}
	})
}

// FuzzClaimsJSON writes a claim set of fuzzed strings and checks it three
// ways: encoding/json reads each claim back unchanged, ijson accepts it,
// and Verify returns the claims Sign was given.
func FuzzClaimsJSON(f *testing.F) {
	for i, s := range jsonSeeds {
		f.Add(s, "ok", jsonSeeds[(i+1)%len(jsonSeeds)], s, "GET", s, "/"+s, "authorization", int64(1700000600))
	}
	now := time.Unix(1_700_000_000, 0)
	key, err := NewKey([]byte("assertion test key 1: not secret"))
	if err != nil {
		f.Fatal(err)
	}
	clock := WithClock(func() time.Time { return now })
	signer, _ := NewSigner([]*Key{key}, clock)
	verifier, _ := NewVerifier([]*Key{key}, clock, WithMaxLifetime(time.Hour))
	f.Fuzz(func(t *testing.T, id, result, did, sub, method, host, target, bound string, tex int64) {
		c := Claims{ID: id, Result: result, DeviceID: did, Forwarded: Forwarded{Subject: sub, IP: did},
			Method: method, Host: host, Target: target}
		if tex != 0 {
			c.TokenExpiry = time.Unix(tex, 0)
		}
		if bound != "" {
			c.BoundHeaders, c.BindingHash = []string{bound}, "aGFzaA=="
		}
		data, err := appendClaims(nil, &c, DefaultAudience, now.Unix(), now.Unix()+60)
		if err != nil {
			if !errors.Is(err, ErrUnsignable) || !unsignable(&c) {
				t.Fatalf("refused %+v: %v", c, err)
			}
			return
		}
		if unsignable(&c) {
			t.Fatalf("wrote %+v: %s", c, data)
		}
		if err := ijson.Valid(data); err != nil {
			t.Fatalf("not I-JSON: %s: %v", data, err)
		}
		var got map[string]any
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("encoding/json: %v: %s", err, data)
		}
		want := map[string]any{"iss": Issuer, "aud": DefaultAudience, "iat": float64(now.Unix()), "exp": float64(now.Unix() + 60),
			"jti": id, "result": result, "htm": method, "hth": host, "htu": target}
		if did != "" {
			want["did"] = did
		}
		if tex != 0 {
			want["tex"] = float64(tex)
		}
		clm := map[string]any{}
		if did != "" {
			clm["ip"] = did
		}
		if sub != "" {
			clm["sub"] = sub
		}
		if len(clm) > 0 {
			want["clm"] = clm
		}
		if bound != "" {
			want["bnh"] = []any{strings.ToLower(bound)}
			want["bnd"] = "aGFzaA=="
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("encoding/json read\n%v\nwant\n%v", got, want)
		}

		tok, err := signer.Sign(&c)
		if err != nil {
			if errors.Is(err, errSignTooLarge) {
				return
			}
			t.Fatal(err)
		}
		back, err := verifier.Verify(tok)
		if err != nil {
			// The times are fixed and tex is not checked against the
			// clock, so any failure is the writer and reader disagreeing.
			t.Fatalf("Verify of Sign: %v", err)
		}
		c.Issuer, c.Audience, c.IssuedAt, c.Expiry = Issuer, DefaultAudience, now, now.Add(time.Minute)
		if c.BoundHeaders != nil {
			c.BoundHeaders = []string{strings.ToLower(bound)}
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip\n got %+v\nwant %+v", back, c)
		}
	})
}

// unsignable reports whether Sign must refuse c, by the rules of
// appendClaims restated independently.
func unsignable(c *Claims) bool {
	for _, s := range []string{c.ID, c.Result, c.DeviceID, c.Forwarded.Subject, c.Forwarded.IP, c.Method, c.Host, c.Target} {
		if !utf8.ValidString(s) {
			return true
		}
	}
	if c.ID == "" || c.Result == "" || c.Method == "" || c.Target == "" {
		return true
	}
	if !c.TokenExpiry.IsZero() && (c.TokenExpiry.Unix() < 0 || c.TokenExpiry.Unix() > maxNumericDate) {
		return true
	}
	for _, n := range c.BoundHeaders {
		if n == "" || strings.EqualFold(n, "host") || strings.ContainsFunc(n, func(r rune) bool {
			return r >= utf8.RuneSelf || !tchar[r]
		}) {
			return true
		}
	}
	return false
}
