package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	secret := make([]byte, 64)
	rand.Read(secret)
	b64, b64url := base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret)
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := write("es.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), 0o644)
	private := write("secret.txt", b64+"\n", 0o600)
	shared := write("shared.txt", b64+"\n", 0o644)

	for _, tt := range []struct {
		name     string
		cfg      Config
		keys     int
		warnings int
		problem  string
	}{
		{"base64 secret", Config{Base64Secret: b64}, 1, 0, ""},
		{"base64url secret", Config{Base64URLSecret: b64url, KeyID: "k"}, 1, 0, ""},
		{"secret file", Config{SecretFile: private}, 1, 0, ""},
		{"secret file others can read", Config{SecretFile: shared}, 1, 1, ""},
		{"public key file", Config{PublicKeyFile: pub}, 1, 0, ""},
		{"keys list", Config{Base64Secret: b64, Keys: []Key{{ID: "a", SecretFile: private}, {ID: "b", PublicKeyFile: pub}}}, 3, 0, ""},
		{"no key", Config{}, 0, 0, ""},
		{"bad secret", Config{Base64Secret: "not*base64"}, 0, 0, "APPROOV_BASE64_SECRET: secret is neither base64 nor base64url"},
		{"missing secret file", Config{SecretFile: filepath.Join(dir, "nope")}, 0, 0, "APPROOV_SECRET_FILE: no such file or directory"},
		{"bad key in the list", Config{Keys: []Key{{ID: "a", PublicKeyFile: private}}}, 0, 0, "keys[0].public_key_file: no PEM block in public key"},
	} {
		keys, warnings, err := LoadKeys(&tt.cfg)
		if len(keys) != tt.keys || len(warnings) != tt.warnings {
			t.Errorf("%s: %d keys, warnings %q", tt.name, len(keys), warnings)
		}
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.problem)
		}
		if err != nil && (strings.Contains(err.Error(), b64) || strings.Contains(err.Error(), dir)) {
			t.Errorf("%s: the error shows a secret or a path: %v", tt.name, err)
		}
	}
}

func TestLoadKeySettings(t *testing.T) {
	dir := t.TempDir()
	secret := make([]byte, 64)
	rand.Read(secret)
	b64 := base64.StdEncoding.EncodeToString(secret)
	os.WriteFile(filepath.Join(dir, "gateway.yaml"), []byte("keys:\n  - id: next\n    base64_secret: "+b64+"\n"), 0o600)
	src := Source{Dir: dir, Getenv: func(k string) (string, bool) {
		v, ok := map[string]string{"APPROOV_BASE64_SECRET": b64}[k]
		return v, ok
	}}
	cfg, err := LoadKeySettings(src, "gateway.yaml")
	if err != nil || cfg.Base64Secret != b64 || len(cfg.Keys) != 1 {
		t.Fatalf("LoadKeySettings: %v %+v", err, cfg)
	}
	// No upstream and no listener are needed; a key is.
	empty := Source{Dir: t.TempDir(), Getenv: func(string) (string, bool) { return "", false }}
	if _, err := LoadKeySettings(empty, ""); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("no key: %v", err)
	}
}
