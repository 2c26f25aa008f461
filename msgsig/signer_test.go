package msgsig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/msgsig"
)

func TestSignerDefaultComponents(t *testing.T) {
	tk := newTokens(t)
	tests := []struct {
		r    *msgsig.Request
		want string
	}{
		{newRequest("GET", target, tk.ipk), `("@method" "@target-uri" "approov-token")`},
		{getRequest(tk.ipk), `("@method" "@target-uri" "approov-token" "authorization")`},
		{postRequest(tk.ipk), `("@method" "@target-uri" "approov-token" "authorization" "content-length" "content-type" "content-digest")`},
	}
	for _, tc := range tests {
		sig, err := installSigner(t).Sign(tc.r, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "install=" + tc.want + `;alg="ecdsa-p256-sha256";created=1744292760;expires=1744292775`
		if sig.Input != want {
			t.Errorf("Input %s, want %s", sig.Input, want)
		}
		if !strings.HasPrefix(sig.Value, "install=:") || len(sig.Value) != len("install=::")+88 {
			t.Errorf("Value %s", sig.Value)
		}
		if !strings.HasSuffix(sig.Base, "\n\"@signature-params\": "+strings.TrimPrefix(want, "install=")) {
			t.Errorf("Base %s", sig.Base)
		}
	}

	// Another token header, another lifetime, the string form.
	s, err := msgsig.NewAccountSigner(accountSecret, msgsig.WithClock(clock), msgsig.WithTokenHeader("X-Approov"),
		msgsig.WithLifetime(0), msgsig.WithForm(msgsig.FormString))
	if err != nil {
		t.Fatal(err)
	}
	if s.Label() != msgsig.LabelAccount {
		t.Errorf("label %s", s.Label())
	}
	r := newRequest("GET", target, tk.msk)
	r.Header.Set("X-Approov", tk.msk)
	sig, err := s.Sign(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `account=("@method" "@target-uri" "x-approov");alg="hmac-sha256";created=1744292760`; sig.Input != want {
		t.Errorf("Input %s, want %s", sig.Input, want)
	}
	if !strings.HasPrefix(sig.Value, `account="`) || len(sig.Value) != len(`account=""`)+44 {
		t.Errorf("Value %s", sig.Value)
	}
	sig.AddTo(r.Header)
	v := newVerifier(t, msgsig.WithTokenHeader("x-approov"))
	if _, err := v.Verify(tk.cMSK, r); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestSignerRefuses(t *testing.T) {
	tk := newTokens(t)
	s := installSigner(t)
	for name, components := range map[string][]string{
		"upper case":          {"@method", "Authorization"},
		"twice":               {"@method", "@method"},
		"unsupported":         {"@status"},
		"absent header":       {"@method", "x-absent"},
		"@signature-params":   {"@signature-params"},
		"not a header name":   {"a b"},
		"more than the limit": make([]string, 40),
	} {
		if _, err := s.Sign(getRequest(tk.ipk), components); err == nil {
			t.Errorf("%s: signed", name)
		}
	}

	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := msgsig.NewInstallSigner(p384); err == nil {
		t.Error("a P-384 install key")
	}
	if _, err := msgsig.NewInstallSigner(nil); err == nil {
		t.Error("a nil install key")
	}
	if _, err := msgsig.NewAccountSigner([]byte("short")); err == nil {
		t.Error("a short account key")
	}
	for name, opt := range map[string]msgsig.SignerOption{
		"negative lifetime":  msgsig.WithLifetime(-time.Second),
		"fractional":         msgsig.WithLifetime(1500 * time.Millisecond),
		"unknown form":       msgsig.WithForm(7),
		"nil clock":          msgsig.WithClock(nil),
		"invalid token name": msgsig.WithTokenHeader("a b"),
	} {
		if _, err := msgsig.NewInstallSigner(installKey, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestVerifierOptions(t *testing.T) {
	key := base64.RawURLEncoding.EncodeToString(accountSecret)
	for name, opts := range map[string][]msgsig.VerifierOption{
		"base64url":   {msgsig.WithAccountKeyBase64(key)},
		"base64":      {msgsig.WithAccountKeyBase64(vectorSecret)},
		"whitespace":  {msgsig.WithAccountKeyBase64(" " + vectorSecret + "\n")},
		"policy":      {msgsig.WithPolicy(msgsig.Required)},
		"tolerances":  {msgsig.WithTolerance(0), msgsig.WithMaxAge(time.Minute)},
		"key and id":  {msgsig.WithAccountKey(accountSecret), msgsig.WithAccountKeyID("id")},
		"token named": {msgsig.WithTokenHeader("Approov-Token")},
	} {
		if _, err := msgsig.NewVerifier(opts...); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, opts := range map[string][]msgsig.VerifierOption{
		"short key":          {msgsig.WithAccountKey(accountSecret[:31])},
		"weak key":           {msgsig.WithAccountKey([]byte(strings.Repeat("ab", 32)))},
		"empty base64":       {msgsig.WithAccountKeyBase64(" ")},
		"not base64":         {msgsig.WithAccountKeyBase64("not base64!")},
		"line break":         {msgsig.WithAccountKeyBase64(vectorSecret[:10] + "\n" + vectorSecret[10:])},
		"id without key":     {msgsig.WithAccountKeyID("id")},
		"empty id":           {msgsig.WithAccountKey(accountSecret), msgsig.WithAccountKeyID("")},
		"negative tolerance": {msgsig.WithTolerance(-1)},
		"negative max age":   {msgsig.WithMaxAge(-1)},
		"unknown policy":     {msgsig.WithPolicy(9)},
		"nil clock":          {msgsig.WithClock(nil)},
		"bad token header":   {msgsig.WithTokenHeader("")},
	} {
		if _, err := msgsig.NewVerifier(opts...); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), vectorSecret[:8]) {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
}

func TestPolicy(t *testing.T) {
	for _, p := range []msgsig.Policy{msgsig.Auto, msgsig.Required, msgsig.Off} {
		got, err := msgsig.ParsePolicy(p.String())
		if err != nil || got != p {
			t.Errorf("%s: %v %v", p, got, err)
		}
		v, _ := msgsig.NewVerifier(msgsig.WithPolicy(p))
		if v.Policy() != p {
			t.Errorf("Policy() = %s, want %s", v.Policy(), p)
		}
	}
	if _, err := msgsig.ParsePolicy("on"); err == nil {
		t.Error("accepted on")
	}
	if s := msgsig.Policy(12).String(); s != "Policy(12)" {
		t.Errorf("%s", s)
	}
}

func TestReasons(t *testing.T) {
	codes := msgsig.Reasons()
	if len(codes) != 12 {
		t.Errorf("%d codes: %v", len(codes), codes)
	}
	for _, code := range codes {
		err := msgsig.ErrorFor(code)
		if err == nil || msgsig.Reason(err) != code || !strings.HasPrefix(err.Error(), "msgsig: ") {
			t.Errorf("%s: %v", code, err)
		}
	}
	if msgsig.ErrorFor("token_expired") != nil || msgsig.Reason(nil) != "ok" || msgsig.Reason(errTest) != "error" {
		t.Error("reasons of other errors")
	}
	// A request without its target URI is the caller's mistake, not the
	// client's.
	if _, err := newVerifier(t).Verify(verifyToken(t, vectorToken), newRequest("GET", "", vectorToken)); msgsig.Reason(err) != "error" {
		t.Errorf("no target URI: %v", err)
	}
	_, err := newVerifier(t).Verify(verifyToken(t, vectorToken), newRequest("GET", target, vectorToken))
	var e *msgsig.Error
	if !asError(err, &e) || e.Reason() != "signature_missing" || e.Detail() == "" || msgsig.Reason(wrap(err)) != "signature_missing" {
		t.Errorf("%v", err)
	}
}

func TestInstallationPublicKey(t *testing.T) {
	ipk, err := msgsig.InstallationPublicKey(&installKey.PublicKey)
	if err != nil || ipk != vectorIPK {
		t.Fatalf("%q %v, want the vector's ipk", ipk, err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := msgsig.InstallationPublicKey(&p384.PublicKey); err == nil {
		t.Error("a P-384 key")
	}
	if _, err := msgsig.InstallationPublicKey(nil); err == nil {
		t.Error("a nil key")
	}
}
