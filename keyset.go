package approov

import (
	"errors"
	"sync/atomic"
)

// KeySet is a set of keys that can be replaced while verifiers use it: the
// keys an account publishes as a JWK set, refreshed as it rotates them.
// Give it to verifiers with [WithKeySet]; they check tokens against their
// own keys first and then the set's, with the same kid rules
// ([Verifier.Verify]). Replacing the set is atomic: each verification
// sees the old keys or the new ones, never a mix. A KeySet is safe for
// concurrent use.
//
// This package fetches nothing: whatever keeps the set current (a JWKS
// fetcher, a file watcher) calls [KeySet.Replace].
type KeySet struct {
	keys atomic.Pointer[[]*Key]
	// unknownKid is the hook NewKeySet was given, or nil.
	unknownKid func(kid string) bool
}

// NewKeySet returns an empty key set. unknownKid, when not nil, is called
// when a token names a kid that no key of the verifier has — a key the
// set may not have caught up with yet. It may refresh the set, even
// synchronously, and reports whether it did; the verifier then looks for
// the kid once more. Verification waits for it, so it must bound its own
// time and rate: an attacker chooses the kids.
func NewKeySet(unknownKid func(kid string) bool) *KeySet {
	s := &KeySet{unknownKid: unknownKid}
	s.keys.Store(new([]*Key))
	return s
}

// Replace makes keys the set's keys, in that order, in place of the
// previous ones. The slice is copied.
func (s *KeySet) Replace(keys []*Key) error {
	for _, k := range keys {
		if k == nil {
			return errors.New("approov: nil key")
		}
	}
	c := append([]*Key(nil), keys...)
	s.keys.Store(&c)
	return nil
}

// Keys returns the set's keys, in order. The caller must not modify the
// slice.
func (s *KeySet) Keys() []*Key { return *s.keys.Load() }

// WithKeySet adds a key set to the verifier, consulted after the keys
// given by [WithKeys] and the secret options. A verifier with a key set
// may have no keys of its own; until the set has keys, it accepts no
// token.
func WithKeySet(s *KeySet) Option {
	return func(v *Verifier) error {
		if s == nil {
			return errors.New("approov: nil key set")
		}
		if v.set != nil {
			return errors.New("approov: more than one key set")
		}
		v.set = s
		return nil
	}
}
