package approov_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

// TestWeakSecret: a secret with fewer than 8 distinct byte values is refused
// however it is given, and the error never shows the secret.
func TestWeakSecret(t *testing.T) {
	// cycle returns n bytes cycling through the first values byte values,
	// spread out so that they are not all printable.
	cycle := func(n, values int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i%values) * 37
		}
		return b
	}
	tests := []struct {
		name   string
		secret []byte
		weak   bool
	}{
		{"64 zero bytes", make([]byte, 64), true},
		{"32 zero bytes", make([]byte, approov.MinSecretSize), true},
		{"ffff", []byte(strings.Repeat("f", 64)), true},
		{"all 0xff", bytes.Repeat([]byte{0xff}, 64), true},
		{"two values", []byte(strings.Repeat("ab", 32)), true},
		{"7 distinct values", cycle(64, 7), true},
		{"8 distinct values", cycle(64, 8), false},
		{"8 distinct values, shortest secret", cycle(approov.MinSecretSize, 8), false},
		{"hex digits", []byte(hex.EncodeToString(cycle(32, 16))), false},
		{"random 64 bytes", approovtest.NewSecret(), false},
		{"text secret", testSecret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, how := range []struct {
				name string
				err  func() error
			}{
				{"NewSecretKey", func() error { _, err := approov.NewSecretKey("k", tt.secret); return err }},
				{"WithSecret", func() error { _, err := approov.NewVerifier(approov.WithSecret(tt.secret)); return err }},
				{"WithBase64Secret", func() error {
					_, err := approov.NewVerifier(approov.WithBase64Secret(base64.StdEncoding.EncodeToString(tt.secret)))
					return err
				}},
			} {
				err := how.err()
				if !tt.weak {
					if err != nil {
						t.Fatalf("%s: %v", how.name, err)
					}
					continue
				}
				if !errors.Is(err, approov.ErrWeakSecret) {
					t.Fatalf("%s: %v, want ErrWeakSecret", how.name, err)
				}
				msg := err.Error()
				for _, form := range []string{string(tt.secret), base64.StdEncoding.EncodeToString(tt.secret), hex.EncodeToString(tt.secret)} {
					if strings.Contains(msg, form) {
						t.Fatalf("%s: error %q contains the secret", how.name, msg)
					}
				}
				if !strings.HasPrefix(msg, "approov: secret is too weak: ") {
					t.Fatalf("%s: error %q", how.name, msg)
				}
			}
		})
	}
}

func mustKey(t testing.TB, id string, secret []byte) *approov.Key {
	t.Helper()
	k, err := approov.NewSecretKey(id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemPublic(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestParsePublicKeyRejects(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	two := append(pemPublic(t, &ec.PublicKey), pemPublic(t, &ec.PublicKey)...)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	for _, tt := range []struct {
		name, pem, want string
	}{
		{"not PEM", "hello", "no PEM block"},
		{"RSA 1024", string(pemPublic(t, &small.PublicKey)), "1024 bits"},
		{"P-384", string(pemPublic(t, &p384.PublicKey)), "P-384"},
		{"two blocks", string(two), "more than one PEM block"},
		{"private key", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})), `"EC PRIVATE KEY"`},
		{"corrupt", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")})), "parsing public key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := approov.ParsePublicKey("", []byte(tt.pem))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParsePublicKey: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeSecret(t *testing.T) {
	secret := testSecret
	for _, tt := range []struct {
		name, in string
	}{
		{"base64", base64.StdEncoding.EncodeToString(secret)},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString(secret)},
		{"base64url", base64.URLEncoding.EncodeToString(secret)},
		{"base64url unpadded", base64.RawURLEncoding.EncodeToString(secret)},
		{"trailing newline", base64.StdEncoding.EncodeToString(secret) + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := approov.DecodeSecret(tt.in)
			if err != nil || string(got) != string(secret) {
				t.Fatalf("DecodeSecret = %q, %v", got, err)
			}
		})
	}
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	for _, tt := range []struct {
		name, in, want string
	}{
		{"empty", "  \n", "secret is empty"},
		{"short", short, "decodes to 16 bytes; at least 32"},
		{"not base64", "this is not base64!!", "neither base64 nor base64url"},
		{"mixed alphabets", strings.Replace(base64.StdEncoding.EncodeToString(otherSecret), "A", "-", 1) + "+", "neither base64 nor base64url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := approov.DecodeSecret(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeSecret: %v, want an error containing %q", err, tt.want)
			}
			if strings.TrimSpace(tt.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
				t.Fatalf("error %q repeats the secret", err)
			}
		})
	}
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	k := mustKey(t, "kid-1", testSecret)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, k)
		if strings.Contains(out, string(testSecret[:16])) || strings.Contains(out, "97 112") {
			t.Errorf("%s printed key material: %s", format, out)
		}
		if !strings.Contains(out, "HS256") {
			t.Errorf("%s = %q, want the algorithm", format, out)
		}
	}
}
