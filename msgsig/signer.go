package msgsig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/http"
	"time"

	"github.com/dunglas/httpsfv"
)

// Signer signs requests as the Approov SDK does, for tools (a sign
// command, tests) that stand in for an app. Build it with
// [NewInstallSigner] or [NewAccountSigner]; it is safe for concurrent use.
type Signer struct {
	label       *label
	install     *ecdsa.PrivateKey
	account     *accountKey
	form        Form
	lifetime    int64 // seconds
	now         func() time.Time
	tokenHeader string // lower case
}

// NewInstallSigner returns a Signer that makes install signatures with
// key, which must be a P-256 key: the installation key whose public half
// the token carries as ipk.
func NewInstallSigner(key *ecdsa.PrivateKey, opts ...SignerOption) (*Signer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("msgsig: the install key must be a P-256 key")
	}
	return newSigner(&Signer{label: installLabel, install: key}, opts)
}

// NewAccountSigner returns a Signer that makes account signatures with the
// raw account message signing key secret; see [WithAccountKey].
func NewAccountSigner(secret []byte, opts ...SignerOption) (*Signer, error) {
	k, err := newAccountKey(secret)
	if err != nil {
		return nil, err
	}
	return newSigner(&Signer{label: accountLabel, account: k}, opts)
}

func newSigner(s *Signer, opts []SignerOption) (*Signer, error) {
	s.lifetime = int64(DefaultLifetime / time.Second)
	s.now = time.Now
	s.tokenHeader = defaultTokenHeader
	for _, opt := range opts {
		if err := opt.applySigner(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Label returns the label the Signer signs under: [LabelInstall] or
// [LabelAccount].
func (s *Signer) Label() string { return s.label.name }

// Signature is a signature made by [Signer.Sign].
type Signature struct {
	// Input is the Signature-Input field value, such as
	// install=("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256";created=1744292750;expires=1744292765
	Input string
	// Value is the Signature field value: install=:base64: or
	// install="base64", as [WithForm] chose.
	Value string
	// Base is the signature base that was signed.
	Base string
}

// AddTo adds the Signature-Input and Signature fields to h. A request may
// carry signatures of both labels: each adds its own instances, which
// recipients join into one dictionary.
func (sig *Signature) AddTo(h http.Header) {
	h.Add(headerSignatureInput, sig.Input)
	h.Add(headerSignature, sig.Value)
}

// Sign signs r over components, which are covered in the order given:
// derived component names such as "@method", and header names in lower
// case. Nil components means the SDK's default set: @method, @target-uri,
// the token header, then whichever of authorization, content-length,
// content-type and content-digest r.Header has. created is now; expires
// is created plus the lifetime ([WithLifetime]). Sign adds nothing to
// r.Header: put the body's [ContentDigest] there before signing it, and
// the result there with [Signature.AddTo] after.
func (s *Signer) Sign(r *Request, components []string) (*Signature, error) {
	if components == nil {
		components = []string{"@method", "@target-uri", s.tokenHeader}
		for _, name := range [...]string{"authorization", "content-length", "content-type", "content-digest"} {
			if headerValues(r.Header, name) != nil {
				components = append(components, name)
			}
		}
	}
	list := httpsfv.InnerList{Params: httpsfv.NewParams()}
	for _, c := range components {
		list.Items = append(list.Items, httpsfv.NewItem(c))
	}
	created := s.now().Unix()
	list.Params.Add("alg", s.label.alg)
	list.Params.Add("created", created)
	if s.lifetime > 0 {
		list.Params.Add("expires", created+s.lifetime)
	}

	// The signature is checked as a verifier will check it: same parser,
	// same base builder.
	sig := signature{label: s.label}
	if _, err := parseInput(list, s.label.errs, &sig); err != nil {
		return nil, err
	}
	base, err := appendBase(nil, r, &sig)
	if err != nil {
		return nil, err
	}

	var value []byte
	if s.install != nil {
		digest := sha256.Sum256(base)
		sr, ss, err := ecdsa.Sign(rand.Reader, s.install, digest[:])
		if err != nil {
			return nil, err
		}
		value = make([]byte, 64)
		sr.FillBytes(value[:32])
		ss.FillBytes(value[32:])
	} else {
		m := hmac.New(sha256.New, s.account.secret)
		m.Write(base)
		value = m.Sum(nil)
	}
	return s.assemble(sig.params, value, string(base))
}

// assemble writes the two field values of a signature.
func (s *Signer) assemble(params string, value []byte, base string) (*Signature, error) {
	var item httpsfv.Item
	if s.form == FormString {
		item = httpsfv.NewItem(b64(value))
	} else {
		item = httpsfv.NewItem(value)
	}
	dict := httpsfv.NewDictionary()
	dict.Add(s.label.name, item)
	v, err := httpsfv.Marshal(dict)
	if err != nil {
		return nil, err
	}
	return &Signature{Input: s.label.name + "=" + params, Value: v, Base: base}, nil
}
