package msgsig

import (
	"crypto/sha256"
	"encoding/base64"

	"github.com/dunglas/httpsfv"
)

// Explanation is the signature base of one signature of a request, for
// troubleshooting a signature that does not verify.
type Explanation struct {
	// Label is the signature's label in Signature-Input.
	Label string
	// Base is the signature base rebuilt from the request; empty when Err
	// says why it could not be.
	Base string
	// Digest is the SHA-256 of Base, standard base64.
	Digest string
	// ClientDigest is the SHA-256 the client says it signed, from the
	// sha-256 member of its Signature-Base-Digest field (which the SDK
	// sends in debug mode), standard base64; empty without one. The field
	// names no label: every Explanation of a request carries the same.
	// When it differs from Digest, the client signed another base: a
	// different target URI (scheme, host or port behind a proxy), or a
	// header changed on the way.
	ClientDigest string
	// Err is why the base could not be built: a malformed member, an
	// unsupported or missing component.
	Err error
}

// Explain rebuilds the signature base of every signature in r's
// Signature-Input, in order, without verifying anything: no key, clock,
// coverage or Signature field is needed. The error is for a
// Signature-Input that is missing, too large or not a dictionary; a
// signature whose base cannot be built has its own Err.
func Explain(r *Request) ([]Explanation, error) {
	values := r.Header[headerSignatureInput]
	switch {
	case len(values) == 0:
		return nil, newError(ErrMissing, "no Signature-Input field")
	case fieldSize(values) > MaxFieldSize:
		return nil, errInputTooLarge
	}
	input, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return nil, errInputSyntax
	}
	client := clientDigest(r.Header[headerBaseDigest])
	var out []Explanation
	for _, name := range input.Names() {
		e := Explanation{Label: name, ClientDigest: client}
		member, _ := input.Get(name)
		l := &label{name: name, errs: errorsFor(name)}
		var s signature
		s.label = l
		if _, err := parseInput(member, l.errs, &s); err != nil {
			e.Err = err
		} else if base, err := appendBase(nil, r, &s); err != nil {
			e.Err = err
		} else {
			sum := sha256.Sum256(base)
			e.Base, e.Digest = string(base), b64(sum[:])
		}
		out = append(out, e)
	}
	return out, nil
}

// clientDigest returns the sha-256 member of a Signature-Base-Digest
// field, in standard base64, or "".
func clientDigest(values []string) string {
	if len(values) == 0 || fieldSize(values) > MaxFieldSize {
		return ""
	}
	dict, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return ""
	}
	m, _ := dict.Get("sha-256")
	if b, ok := digestBytes(m, sha256.Size); ok {
		return b64(b)
	}
	return ""
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
