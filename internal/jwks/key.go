package jwks

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/MicahParks/jwkset"
	"github.com/approov-gateway/approov"
)

// keyAlgorithms maps each key type used here to the one algorithm the
// approov package verifies with it.
var keyAlgorithms = map[jwkset.KTY]string{
	jwkset.KtyRSA: approov.RS256,
	jwkset.KtyEC:  approov.ES256,
	jwkset.KtyOct: approov.HS256,
}

// parseKey turns one JWK into a key pinned to one algorithm, or says why
// it cannot be used. It returns the JWK's kid either way.
func parseKey(raw json.RawMessage, allowSymmetric bool) (*approov.Key, string, error) {
	var m jwkset.JWKMarshal
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, "", errors.New("not a JWK: want an object whose members are strings (key_ops: an array of strings)")
	}
	kid := m.KID
	want, ok := keyAlgorithms[m.KTY]
	if !ok {
		return nil, kid, fmt.Errorf("key type %q is not supported (RSA, EC and oct are)", m.KTY)
	}
	if m.USE != "" && m.USE != jwkset.UseSig {
		return nil, kid, fmt.Errorf("use is %q, not sig", m.USE)
	}
	if len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify) {
		return nil, kid, errors.New("key_ops does not include verify")
	}
	if m.KTY != jwkset.KtyOct && (m.D != "" || m.P != "" || m.Q != "" || m.DP != "" || m.DQ != "" || m.QI != "" || len(m.OTH) > 0) {
		return nil, kid, errors.New("it holds private key material: a published private key can sign tokens for anyone; replace it")
	}
	alg := string(m.ALG)
	switch {
	case alg == "" && m.KTY == jwkset.KtyEC && m.CRV == jwkset.CrvP256:
		alg = approov.ES256 // the one algorithm a P-256 key admits
	case alg == "":
		return nil, kid, fmt.Errorf("no alg, and %s keys admit more than one algorithm", m.KTY)
	case alg != approov.RS256 && alg != approov.ES256 && alg != approov.HS256:
		return nil, kid, fmt.Errorf("algorithm %q is not supported (RS256, ES256 and HS256 are)", alg)
	case alg != want:
		return nil, kid, fmt.Errorf("alg %s is not for %s keys", alg, m.KTY)
	}
	if alg == approov.ES256 && m.CRV != jwkset.CrvP256 {
		return nil, kid, fmt.Errorf("ES256 needs a P-256 key, not %q", m.CRV)
	}
	if m.KTY == jwkset.KtyOct && !allowSymmetric {
		return nil, kid, errors.New("symmetric (oct) key: a published HMAC secret lets anyone make tokens (set jwks_allow_symmetric to use it)")
	}
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{Private: m.KTY == jwkset.KtyOct}, jwkset.JWKValidateOptions{})
	if err != nil {
		return nil, kid, fmt.Errorf("invalid: %v", err)
	}
	var key *approov.Key
	switch material := jwk.Key().(type) {
	case []byte:
		key, err = approov.NewSecretKey(kid, material)
	default:
		key, err = approov.NewPublicKey(kid, material)
	}
	if err != nil {
		return nil, kid, errors.New(trimPrefix(err.Error()))
	}
	if key.Algorithm() != alg {
		return nil, kid, fmt.Errorf("the key verifies %s, not its alg %s", key.Algorithm(), alg)
	}
	return key, kid, nil
}

// trimPrefix drops the "approov: " of the library's errors, which read
// as part of a skip reason.
func trimPrefix(s string) string {
	const p = "approov: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
