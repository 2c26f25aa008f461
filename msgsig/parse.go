package msgsig

import (
	"encoding/base64"
	"net/http"

	"github.com/dunglas/httpsfv"
)

// The labels of the Approov signatures and the algorithm each is pinned
// to. The algorithm comes from the label, never from the alg parameter,
// which must match when present.
const (
	// LabelInstall is signed by the installation's P-256 key, whose public
	// half the token carries in its ipk claim.
	LabelInstall = "install"
	// LabelAccount is signed with the account message signing key, a
	// secret shared with the backend, whose id the token carries in mskid.
	LabelAccount = "account"

	// AlgInstall is ECDSA on P-256 with SHA-256, the signature r||s as 32
	// bytes each (IEEE P1363), not DER.
	AlgInstall = "ecdsa-p256-sha256"
	// AlgAccount is HMAC with SHA-256.
	AlgAccount = "hmac-sha256"
)

// MaxFieldSize is the longest Signature-Input, Signature or
// Content-Digest accepted, all instances together, checked before the
// field is parsed. The SDK's fields are a few hundred bytes.
const MaxFieldSize = 8 << 10

// maxComponents is the most components one signature may cover: the SDK
// covers at most eight.
const maxComponents = 32

// maxNameSize is the longest header name a signature may cover.
const maxNameSize = 128

// The header fields this package reads.
const (
	headerSignatureInput = "Signature-Input"
	headerSignature      = "Signature"
	headerContentDigest  = "Content-Digest"
	headerBaseDigest     = "Signature-Base-Digest"
)

// label is one of the two Approov signature labels.
type label struct {
	name string
	alg  string
	size int // of the signature, in bytes
	errs *labelErrors
}

var (
	installLabel = &label{name: LabelInstall, alg: AlgInstall, size: 64, errs: newLabelErrors(LabelInstall, AlgInstall, 64)}
	accountLabel = &label{name: LabelAccount, alg: AlgAccount, size: 32, errs: newLabelErrors(LabelAccount, AlgAccount, 32)}
)

// signature is one signature of a request, parsed and checked for shape.
type signature struct {
	label *label
	// components are the covered components, in order; n of them.
	components [maxComponents]string
	n          int
	// params is the value of the @signature-params line: the
	// serialisation of the received inner list.
	params           string
	created, expires int64
	hasExpires       bool
	// The signature's bytes are buf[:valueLen]. Not a slice of buf held in the
	// struct: that would make every signature escape to the heap.
	buf      [maxSignatureB64 / 4 * 3]byte
	valueLen int
}

// value returns the signature's bytes.
func (s *signature) value() []byte { return s.buf[:s.valueLen] }

// maxSignatureB64 is the longest base64 string of a 64-byte signature.
const maxSignatureB64 = 88

func (s *signature) covered() []string { return s.components[:s.n] }

func (s *signature) covers(name string) bool {
	for _, c := range s.covered() {
		if c == name {
			return true
		}
	}
	return false
}

// fieldSize returns the length of all instances of a field together.
func fieldSize(values []string) int {
	n := 0
	for _, v := range values {
		n += len(v) + 2
	}
	return n
}

// parseDictionaries parses the Signature-Input and Signature fields of h.
func parseDictionaries(h http.Header) (input, sig *httpsfv.Dictionary, err *Error) {
	in, sv := h[headerSignatureInput], h[headerSignature]
	switch {
	case len(in) == 0 && len(sv) == 0:
		return nil, nil, errNoHeaders
	case len(in) == 0:
		return nil, nil, errNoInput
	case len(sv) == 0:
		return nil, nil, errNoSignature
	case fieldSize(in) > MaxFieldSize:
		return nil, nil, errInputTooLarge
	case fieldSize(sv) > MaxFieldSize:
		return nil, nil, errSigTooLarge
	}
	input, e := httpsfv.UnmarshalDictionary(in)
	if e != nil {
		return nil, nil, errInputSyntax
	}
	sig, e = httpsfv.UnmarshalDictionary(sv)
	if e != nil {
		return nil, nil, errSigSyntax
	}
	return input, sig, nil
}

// parseSignature fills s with the signature labelled l, checking
// everything that needs neither the clock nor the request.
func parseSignature(input, sig *httpsfv.Dictionary, l *label, s *signature) *Error {
	errs := l.errs
	in, inOK := input.Get(l.name)
	sv, svOK := sig.Get(l.name)
	switch {
	case !inOK && !svOK:
		return errs.missing
	case !svOK:
		return errs.onlyInput
	case !inOK:
		return errs.onlySignature
	}
	s.label = l
	list, err := parseInput(in, errs, s)
	if err != nil {
		return err
	}

	params := list.Params
	if alg, ok := params.Get("alg"); ok {
		a, isString := alg.(string)
		if !isString {
			return errs.algType
		}
		if a != l.alg {
			return errs.alg
		}
	}
	created, ok := params.Get("created")
	if !ok {
		return errs.created
	}
	if s.created, ok = created.(int64); !ok {
		return errs.createdType
	}
	if expires, ok := params.Get("expires"); ok {
		if s.expires, ok = expires.(int64); !ok {
			return errs.expiresType
		}
		if s.expires < s.created {
			return errs.expiresBeforeCreated
		}
		s.hasExpires = true
	}

	item, ok := sv.(httpsfv.Item)
	if !ok {
		return errs.value
	}
	switch v := item.Value.(type) {
	case []byte:
		if len(v) > len(s.buf) {
			return errs.length
		}
		s.valueLen = copy(s.buf[:], v)
	case string:
		// The string form carries standard base64, as the SDK writes it;
		// padding may be left out, as byte sequences allow. Decoded on the
		// stack into s: it is the form current SDKs send.
		var src [maxSignatureB64]byte
		if len(v) > len(src) {
			return errs.length
		}
		enc := base64.StdEncoding
		if len(v)%4 != 0 {
			enc = base64.RawStdEncoding
		}
		if enc.DecodedLen(len(v)) > len(s.buf) {
			return errs.length
		}
		n, err := enc.Decode(s.buf[:], src[:copy(src[:], v)])
		if err != nil {
			return errs.base64
		}
		s.valueLen = n
	default:
		return errs.value
	}
	if s.valueLen != l.size {
		return errs.length
	}
	return nil
}

// parseInput reads the covered components of a Signature-Input member
// into s and serialises the inner list as its @signature-params value.
func parseInput(m httpsfv.Member, errs *labelErrors, s *signature) (httpsfv.InnerList, *Error) {
	list, ok := m.(httpsfv.InnerList)
	if !ok {
		return list, errs.notInnerList
	}
	if len(list.Items) > maxComponents {
		return list, errs.tooMany
	}
	s.n = 0
	for _, item := range list.Items {
		name, ok := item.Value.(string)
		if !ok || name == "" {
			return list, errs.component
		}
		if len(item.Params.Names()) != 0 {
			return list, errs.componentParams
		}
		if name[0] == '@' {
			switch {
			case name == "@signature-params":
				return list, errs.signatureParams
			case !isDerived(name):
				return list, errs.unsupported
			}
		} else {
			if !isToken(name) {
				return list, errs.component
			}
			if hasUpper(name) {
				return list, errs.lowerCase
			}
		}
		if s.covers(name) {
			return list, errs.duplicate
		}
		s.components[s.n] = name
		s.n++
	}
	line, err := httpsfv.Marshal(list)
	if err != nil {
		return list, errs.encode
	}
	s.params = line
	return list, nil
}

// isDerived reports whether name is a derived component this package
// computes.
func isDerived(name string) bool {
	switch name {
	case "@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query":
		return true
	}
	return false
}

// errorsFor returns the prebuilt errors of a label, or new ones for a
// label other than install and account (only [Explain] sees those).
func errorsFor(name string) *labelErrors {
	switch name {
	case LabelInstall:
		return installLabel.errs
	case LabelAccount:
		return accountLabel.errs
	}
	return newLabelErrors(name, "", 0)
}

// hasUpper reports whether s has an ASCII upper-case letter.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
