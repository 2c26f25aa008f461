package approov_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
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
