package msgsig_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/approov-gateway/approov/msgsig"
)

func TestContentDigest(t *testing.T) {
	data := []byte(strings.Repeat("a body of some length, ", 1000))
	s256, s512 := sha256.Sum256(data), sha512.Sum512(data)
	b256, b512 := base64.StdEncoding.EncodeToString(s256[:]), base64.StdEncoding.EncodeToString(s512[:])
	zero256 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name, value, reason string
	}{
		{"sha-256 byte sequence", "sha-256=:" + b256 + ":", "ok"},
		{"sha-256 string", `sha-256="` + b256 + `"`, "ok"},
		{"sha-256 string, unpadded", `sha-256="` + strings.TrimRight(b256, "=") + `"`, "ok"},
		{"sha-512 byte sequence", "sha-512=:" + b512 + ":", "ok"},
		{"sha-512 string", `sha-512="` + b512 + `"`, "ok"},
		{"both", "sha-512=:" + b512 + ":, sha-256=:" + b256 + ":", "ok"},
		{"both, with an unknown algorithm", "md5=:AAAA:, sha-256=:" + b256 + ":, sha-512=:" + b512 + ":", "ok"},
		{"ContentDigest", msgsig.ContentDigest(data), "ok"},
		{"sha-256 wrong", "sha-256=:" + zero256 + ":", "content_digest_mismatch"},
		{"sha-256 right, sha-512 wrong", "sha-256=:" + b256 + ":, sha-512=:" + base64.StdEncoding.EncodeToString(make([]byte, 64)) + ":", "content_digest_mismatch"},
		{"sha-512 right, sha-256 wrong", "sha-256=:" + zero256 + ":, sha-512=:" + b512 + ":", "content_digest_mismatch"},
		{"sha-256 twice, the last wins", "sha-256=:" + b256 + ":, sha-256=:" + zero256 + ":", "content_digest_mismatch"},
		{"only unknown algorithms", "md5=:AAAA:, crc32c=:AAAA:", "content_digest_missing"},
		{"empty", "", "content_digest_missing"},
		{"upper-case algorithm", "SHA-256=:" + b256 + ":", "content_digest_malformed"},
		{"bare key, a boolean", "sha-256", "content_digest_malformed"},
		{"syntax error", "sha-256=:" + b256, "content_digest_malformed"},
		{"too short", "sha-256=:AAAA:", "content_digest_malformed"},
		{"sha-512 of sha-256 length", "sha-512=:" + b256 + ":", "content_digest_malformed"},
		{"string not base64", `sha-256="not base64!"`, "content_digest_malformed"},
		{"integer", "sha-256=1", "content_digest_malformed"},
		{"inner list", "sha-256=(:" + b256 + ":)", "content_digest_malformed"},
		{"too large", "sha-256=:" + b256 + ":, x=\"" + strings.Repeat("a", msgsig.MaxFieldSize) + `"`, "content_digest_malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Read in small pieces: the verifier streams.
			err := msgsig.VerifyContentDigest(tc.value, iotest.OneByteReader(strings.NewReader(string(data))))
			if got := msgsig.Reason(err); got != tc.reason {
				t.Fatalf("reason %s (%v), want %s", got, err, tc.reason)
			}
		})
	}
}

func TestDigestVerifierStreams(t *testing.T) {
	data := []byte("0123456789")
	d, err := msgsig.NewDigestVerifier(msgsig.ContentDigest(data))
	if err != nil {
		t.Fatal(err)
	}
	// The gateway tees the body into the verifier while buffering it.
	var buffered strings.Builder
	if _, err := io.Copy(io.MultiWriter(&buffered, d), iotest.HalfReader(strings.NewReader(string(data)))); err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(); err != nil || buffered.String() != string(data) {
		t.Fatalf("%v %q", err, buffered.String())
	}
	d, _ = msgsig.NewDigestVerifier(msgsig.ContentDigest(data))
	d.Write(data[:9])
	if err := d.Verify(); !errors.Is(err, msgsig.ErrDigestMismatch) {
		t.Fatalf("a truncated body: %v", err)
	}
	// An empty body has a digest too.
	if err := msgsig.VerifyContentDigest(msgsig.ContentDigest(nil), strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	// A read error is returned as it is.
	boom := errors.New("boom")
	if err := msgsig.VerifyContentDigest(msgsig.ContentDigest(data), iotest.ErrReader(boom)); err != boom {
		t.Fatalf("read error: %v", err)
	}
}
