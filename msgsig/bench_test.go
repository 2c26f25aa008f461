package msgsig_test

import (
	"testing"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/msgsig"
	"github.com/dunglas/httpsfv"
)

// benchRequests are the requests the benchmarks verify: a GET bound to
// Authorization, signed over the SDK's default set, under each label and
// both; and the token check that comes before.
type benchRequests struct {
	tk                       *tokens
	install, account, both   *msgsig.Request
	forged, garbage, missing *msgsig.Request
}

func newBenchRequests(tb testing.TB) *benchRequests {
	tk := newTokens(tb)
	bound := []string{"Authorization"}
	req := func(tok string, signers ...*msgsig.Signer) *msgsig.Request {
		r := signedWith(tb, getRequest(tok), nil, signers...)
		r.BoundHeaders = bound
		return r
	}
	other, err := msgsig.NewInstallSigner(otherKey, msgsig.WithClock(clock))
	if err != nil {
		tb.Fatal(err)
	}
	b := &benchRequests{
		tk:      tk,
		install: req(tk.ipk, installSigner(tb)),
		account: req(tk.msk, accountSigner(tb)),
		both:    req(tk.both, installSigner(tb), accountSigner(tb)),
		forged:  req(tk.ipk, other),
		garbage: req(tk.ipk),
		missing: req(tk.ipk),
	}
	b.garbage.Header.Set("Signature-Input", "install=(this is not a signature input")
	b.garbage.Header.Set("Signature", "install=:AAAA:")
	return b
}

func BenchmarkVerify(b *testing.B) {
	in := newBenchRequests(b)
	v := newVerifier(b)
	tokens, err := approov.NewVerifier(approov.WithBase64Secret(vectorSecret), approov.WithAudience("approov.io"), approov.WithClock(clock))
	if err != nil {
		b.Fatal(err)
	}
	run := func(name string, claims *approov.Claims, r *msgsig.Request, ok bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(claims, r); (err == nil) != ok {
					b.Fatal(err)
				}
			}
		})
	}
	// The token check alone, for scale: the gateway runs it first.
	b.Run("token", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.VerifyRequest(in.install.Header); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What parsing Signature-Input and Signature costs, of every path below.
	b.Run("parse", func(b *testing.B) {
		h := in.both.Header
		b.ReportAllocs()
		for b.Loop() {
			if _, err := httpsfv.UnmarshalDictionary(h["Signature-Input"]); err != nil {
				b.Fatal(err)
			}
			if _, err := httpsfv.UnmarshalDictionary(h["Signature"]); err != nil {
				b.Fatal(err)
			}
		}
	})
	run("install", in.tk.cIPK, in.install, true)
	run("account", in.tk.cMSK, in.account, true)
	run("install+account", in.tk.cBoth, in.both, true)
	run("install_forged", in.tk.cIPK, in.forged, false)
	run("garbage", in.tk.cIPK, in.garbage, false)
	run("missing", in.tk.cIPK, in.missing, false)
	run("not_required", in.tk.cNone, getRequest(in.tk.none), true)
}

func BenchmarkContentDigest(b *testing.B) {
	data := make([]byte, 64<<10)
	value := msgsig.ContentDigest(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := msgsig.NewDigestVerifier(value)
		if err != nil {
			b.Fatal(err)
		}
		d.Write(data)
		if err := d.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTargetURI(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := msgsig.TargetURI("https", "api.example.com:443", "/v1/orders?id=7"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAllocations pins the allocation counts the benchmarks report, so
// that a change that adds to the gateway's path fails a test. Most of
// those on the valid paths are the structured-field parser's.
func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Log("the race detector changes allocation counts; checking behaviour only")
	}
	in := newBenchRequests(t)
	v := newVerifier(t)
	tooLarge := getRequest(in.tk.ipk)
	tooLarge.Header.Set("Signature-Input", string(make([]byte, msgsig.MaxFieldSize+1)))
	tooLarge.Header.Set("Signature", "x")
	tests := []struct {
		name   string
		max    float64
		claims *approov.Claims
		r      *msgsig.Request
	}{
		{"install", 80, in.tk.cIPK, in.install},
		{"account", 60, in.tk.cMSK, in.account},
		{"garbage", 30, in.tk.cIPK, in.garbage},
		{"missing", 0, in.tk.cIPK, in.missing},
		{"too large", 0, in.tk.cIPK, tooLarge},
		{"not required", 0, in.tk.cNone, getRequest(in.tk.none)},
	}
	for _, tc := range tests {
		got := testing.AllocsPerRun(50, func() { _, _ = v.Verify(tc.claims, tc.r) })
		if !raceEnabled && got > tc.max {
			t.Errorf("%s: %v allocations, want at most %v", tc.name, got, tc.max)
		}
		t.Logf("%s: %v allocations", tc.name, got)
	}
	if got := testing.AllocsPerRun(50, func() { _, _ = msgsig.TargetURI("https", "api.example.com:443", "/v1/orders?id=7") }); got > 1 {
		t.Errorf("TargetURI: %v allocations, want 1", got)
	}
}
