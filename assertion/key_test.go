package assertion_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/approov-gateway/approov/assertion"
)

func TestNewKeyRefusesWeakKeys(t *testing.T) {
	tests := map[string][]byte{
		"empty":             nil,
		"31 bytes":          []byte("0123456789abcdefghijklmnopqrstu"),
		"zeros":             make([]byte, 64),
		"a repeated word":   bytes.Repeat([]byte("ab"), 32),
		"7 distinct values": bytes.Repeat([]byte("abcdefg"), 10),
	}
	for name, secret := range tests {
		if _, err := assertion.NewKey(secret); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "assertion: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := assertion.NewKey(bytes.Repeat([]byte("abcdefgh"), 4)); err != nil {
		t.Errorf("32 bytes of 8 distinct values: %v", err)
	}
}

func TestKeyID(t *testing.T) {
	// Known answer, computed independently:
	// base64url(sha256("approov-assertion-kid:" + secret)[:9]).
	if got, want := key1.ID(), "yKCg3nsrwdub"; got != want {
		t.Errorf("ID() = %s, want %s", got, want)
	}
	if key1.ID() == key2.ID() {
		t.Error("two keys, one id")
	}
}

func TestParseKeys(t *testing.T) {
	encodings := []string{
		base64.StdEncoding.EncodeToString(secret1),
		base64.RawStdEncoding.EncodeToString(secret1),
		base64.URLEncoding.EncodeToString(secret1),
		base64.RawURLEncoding.EncodeToString(secret1),
		" \t" + base64.StdEncoding.EncodeToString(secret1) + "\n",
	}
	for _, enc := range encodings {
		keys, err := assertion.ParseKeys(enc)
		if err != nil || len(keys) != 1 || keys[0].ID() != key1.ID() {
			t.Errorf("%q: %v %v", enc, keys, err)
		}
	}
	keys, err := assertion.ParseKeys(encodings[0] + " , " + base64.StdEncoding.EncodeToString(secret2))
	if err != nil || len(keys) != 2 || keys[0].ID() != key1.ID() || keys[1].ID() != key2.ID() {
		t.Errorf("two keys: %v %v", keys, err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(secret1)
	weak := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("ab"), 32))
	short := base64.StdEncoding.EncodeToString([]byte("a short secret value"))
	notBase64 := "this-is-not-base64!-but-long-enough"
	tests := map[string]string{
		"empty":            "",
		"blank":            " \n",
		"stray comma":      good + ",",
		"empty entry":      good + ",," + good,
		"not base64":       notBase64,
		"mixed alphabets":  strings.Repeat("abcdefgh", 5) + "+_AA",
		"line break":       good[:20] + "\n" + good[20:],
		"non-canonical":    good[:len(good)-2] + "B=",
		"weak":             weak,
		"short":            short,
		"repeated":         good + "," + base64.RawURLEncoding.EncodeToString(secret1),
		"second key weak":  good + "," + weak,
		"second key short": good + "," + short,
	}
	for name, list := range tests {
		keys, err := assertion.ParseKeys(list)
		if err == nil {
			t.Errorf("%s: accepted %v", name, keys)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "assertion: ") {
			t.Errorf("%s: %q lacks the package prefix", name, msg)
		}
		// No part of any key, in any form, may reach the message.
		for _, part := range strings.Split(list, ",") {
			part = strings.TrimSpace(part)
			for i := 0; i+8 <= len(part); i++ {
				if strings.Contains(msg, part[i:i+8]) {
					t.Errorf("%s: error %q contains key material %q", name, msg, part[i:i+8])
					break
				}
			}
		}
	}
}

func TestKeyNeverPrintsMaterial(t *testing.T) {
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", key1, "keys", []*assertion.Key{key1})
	out := fmt.Sprintf("%v %+v %#v %s %q %v", key1, key1, key1, key1, key1, []*assertion.Key{key1}) + logged.String()
	for _, material := range []string{string(secret1), base64.StdEncoding.EncodeToString(secret1),
		base64.RawURLEncoding.EncodeToString(secret1), fmt.Sprintf("%x", secret1), fmt.Sprint(secret1)} {
		if strings.Contains(out, material) {
			t.Fatalf("key material printed: %s", out)
		}
	}
	if !strings.Contains(out, key1.ID()) {
		t.Errorf("the id is not shown: %s", out)
	}
}
