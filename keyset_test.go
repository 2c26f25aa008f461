package approov_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

// ecKey returns a P-256 signing key and its verification key with id kid.
func ecKey(t testing.TB, kid string) (*approovtest.Signer, *approov.Key) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := approov.NewPublicKey(kid, &priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return approovtest.MustSigner(approov.ES256, priv, kid), key
}

func signed(t testing.TB, s *approovtest.Signer) string {
	t.Helper()
	tok, err := s.Sign(map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestKeySetReplace: a verifier with only a key set accepts nothing until
// the set has keys, then tokens of the set's keys, and after a
// replacement only those of the new keys.
func TestKeySetReplace(t *testing.T) {
	oldSigner, oldKey := ecKey(t, "old")
	newSigner, newKey := ecKey(t, "new")
	set := approov.NewKeySet(nil)
	v, err := approov.NewVerifier(approov.WithKeySet(set))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(signed(t, oldSigner)); !errors.Is(err, approov.ErrUnsupportedAlgorithm) {
		t.Fatalf("empty set: %v", err)
	}
	if err := set.Replace([]*approov.Key{oldKey}); err != nil {
		t.Fatal(err)
	}
	if c, err := v.Verify(signed(t, oldSigner)); err != nil || c.KeyID != "old" {
		t.Fatalf("old key: %v %q", err, c.KeyID)
	}
	set.Replace([]*approov.Key{newKey})
	if _, err := v.Verify(signed(t, oldSigner)); !errors.Is(err, approov.ErrUnknownKey) {
		t.Fatalf("old key replaced: %v", err)
	}
	if _, err := v.Verify(signed(t, newSigner)); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if got := set.Keys(); len(got) != 1 || got[0] != newKey {
		t.Fatalf("Keys: %v", got)
	}
	if err := set.Replace([]*approov.Key{nil}); err == nil {
		t.Fatal("nil key accepted")
	}
}

// TestKeySetCombinesWithOwnKeys: the verifier's own keys are tried first,
// then the set's, with the kid rules of Verify over both.
func TestKeySetCombinesWithOwnKeys(t *testing.T) {
	secret := approovtest.NewSecret()
	static, _ := approov.NewSecretKey("", secret)
	setSigner, setKey := ecKey(t, "jwks-1")
	set := approov.NewKeySet(nil)
	set.Replace([]*approov.Key{setKey})
	v, err := approov.NewVerifier(approov.WithKeys(static), approov.WithKeySet(set))
	if err != nil {
		t.Fatal(err)
	}
	hs := approovtest.MustSigner(approov.HS256, secret, "")
	if _, err := v.Verify(signed(t, hs)); err != nil {
		t.Fatalf("static key: %v", err)
	}
	if _, err := v.Verify(signed(t, setSigner)); err != nil {
		t.Fatalf("set key: %v", err)
	}
	// A kid no key has falls back to the keys without an id: the static
	// secret, which does not verify an ES256 signature.
	other, _ := ecKey(t, "elsewhere")
	if _, err := v.Verify(signed(t, other)); !errors.Is(err, approov.ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
	if _, err := approov.NewVerifier(approov.WithKeySet(set), approov.WithKeySet(set)); err == nil {
		t.Fatal("two key sets accepted")
	}
	if _, err := approov.NewVerifier(approov.WithKeySet(nil)); err == nil {
		t.Fatal("nil key set accepted")
	}
}

// TestKeySetUnknownKid: a kid no key has is reported to the set's hook;
// when the hook refreshes the set, the token verifies with the new key in
// the same call. A kid some key has is never reported, nor is a token
// without a kid.
func TestKeySetUnknownKid(t *testing.T) {
	oldSigner, oldKey := ecKey(t, "old")
	newSigner, newKey := ecKey(t, "new")
	var set *approov.KeySet
	var asked []string
	refresh := true
	set = approov.NewKeySet(func(kid string) bool {
		asked = append(asked, kid)
		if !refresh {
			return false
		}
		set.Replace([]*approov.Key{oldKey, newKey})
		return true
	})
	set.Replace([]*approov.Key{oldKey})
	v, _ := approov.NewVerifier(approov.WithKeySet(set))

	if _, err := v.Verify(signed(t, oldSigner)); err != nil || len(asked) != 0 {
		t.Fatalf("known kid: %v, asked %q", err, asked)
	}
	if _, err := v.Verify(signed(t, newSigner)); err != nil {
		t.Fatalf("new kid after refresh: %v", err)
	}
	if strings.Join(asked, ",") != "new" {
		t.Fatalf("asked %q, want new", asked)
	}

	refresh = false
	stranger, _ := ecKey(t, "stranger")
	if _, err := v.Verify(signed(t, stranger)); !errors.Is(err, approov.ErrUnknownKey) {
		t.Fatalf("stranger: %v", err)
	}
	noKid, _ := ecKey(t, "")
	if _, err := v.Verify(signed(t, noKid)); !errors.Is(err, approov.ErrBadSignature) {
		t.Fatalf("no kid: %v", err)
	}
	if strings.Join(asked, ",") != "new,stranger" {
		t.Fatalf("asked %q, want new,stranger", asked)
	}
}

// TestKeySetConcurrentReplace runs verifications while the set is
// replaced back and forth (go test -race checks the sharing): every token
// of the key present throughout verifies.
func TestKeySetConcurrentReplace(t *testing.T) {
	signer, steady := ecKey(t, "steady")
	_, a := ecKey(t, "a")
	_, b := ecKey(t, "b")
	set := approov.NewKeySet(nil)
	set.Replace([]*approov.Key{steady})
	v, _ := approov.NewVerifier(approov.WithKeySet(set))
	tok := signed(t, signer)
	var wg sync.WaitGroup
	var failed atomic.Int64
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := v.Verify(tok); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	for i := range 2000 {
		if i%2 == 0 {
			set.Replace([]*approov.Key{a, steady})
		} else {
			set.Replace([]*approov.Key{steady, b})
		}
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d verifications failed during replacements", n)
	}
}

func TestNewPublicKeyRejects(t *testing.T) {
	big2048 := new(big.Int).Lsh(big.NewInt(1), 2047)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, tt := range []struct {
		name string
		key  any
		want string
	}{
		{"RSA 1024", &small.PublicKey, "1024 bits"},
		{"P-384", &p384.PublicKey, "P-384"},
		{"Ed25519", edPub, "not supported"},
		{"nil RSA", (*rsa.PublicKey)(nil), "nil RSA key"},
		{"RSA exponent 1", &rsa.PublicKey{N: big2048, E: 1}, "exponent 1"},
		{"RSA 4097 bits", &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 4096), E: 65537}, "4097 bits; at most 4096"},
		{"RSA even exponent", &rsa.PublicKey{N: big2048, E: 65536}, "exponent 65536"},
		{"nil ECDSA", (*ecdsa.PublicKey)(nil), "nil ECDSA key"},
		{"nil", nil, "not supported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := approov.NewPublicKey("", tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewPublicKey: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestKeySetAskedLast: the set's hook is asked only when no key can
// verify the token: not when a key without an id verifies a token whose
// kid no key has (an account's static secret beside its JWK set), and not
// for an algorithm this package does not verify, which no key could help.
func TestKeySetAskedLast(t *testing.T) {
	secret := approovtest.NewSecret()
	static, _ := approov.NewSecretKey("", secret)
	asked := 0
	set := approov.NewKeySet(func(string) bool { asked++; return false })
	_, setKey := ecKey(t, "jwks-1")
	set.Replace([]*approov.Key{setKey})
	v, _ := approov.NewVerifier(approov.WithKeys(static), approov.WithKeySet(set))

	withKid := approovtest.MustSigner(approov.HS256, secret, "rotated-elsewhere")
	if _, err := v.Verify(signed(t, withKid)); err != nil {
		t.Fatalf("a kid no key has, verified by the key without an id: %v", err)
	}
	none := "eyJhbGciOiJub25lIiwia2lkIjoiengifQ.eyJleHAiOjR9.c2ln" // {"alg":"none","kid":"zx"}
	if _, err := v.Verify(none); !errors.Is(err, approov.ErrUnsupportedAlgorithm) {
		t.Fatalf("alg none: %v", err)
	}
	if asked != 0 {
		t.Fatalf("the hook was asked %d times", asked)
	}
	// A kid no key has, signed by a key nobody knows: now the set is asked.
	stranger, _ := ecKey(t, "stranger")
	if _, err := v.Verify(signed(t, stranger)); !errors.Is(err, approov.ErrUnknownKey) {
		t.Fatalf("stranger: %v", err)
	}
	otherSecret := approovtest.MustSigner(approov.HS256, approovtest.NewSecret(), "other")
	if _, err := v.Verify(signed(t, otherSecret)); !errors.Is(err, approov.ErrBadSignature) {
		t.Fatalf("an HS256 token of another secret: %v", err)
	}
	if asked != 2 {
		t.Fatalf("the hook was asked %d times, want 2", asked)
	}
}
