package approov

import (
	"encoding/json"
	"time"
)

// Claims are the contents of a verified Approov token. The string fields
// are empty when the token does not carry the claim; the times are zero.
type Claims struct {
	// Expiry is the exp claim. Every verified token has one.
	Expiry time.Time
	// NotBefore and IssuedAt are the nbf and iat claims.
	NotBefore, IssuedAt time.Time

	// DeviceID is the did claim: a stable id of the app installation's device.
	DeviceID string
	// IP is the ip claim: the client address the Approov cloud saw.
	IP string
	// PayloadHash is the pay claim: base64 of the SHA-256 of the value the
	// token is bound to, checked by [Binding.Check].
	PayloadHash string
	// AttestationResponse is the arc claim, an encoded attestation
	// response code, present when the account enables it.
	AttestationResponse string
	// InstallationPublicKey is the ipk claim: base64 of the DER
	// SubjectPublicKeyInfo of the installation's P-256 key.
	InstallationPublicKey string
	// MessageSigningKeyID is the mskid claim.
	MessageSigningKeyID string
	// Issuer, Subject and Audience are the iss, sub and aud claims.
	Issuer, Subject string
	Audience        []string

	// KeyID is the kid header, and Algorithm the alg of the key that
	// verified the signature.
	KeyID, Algorithm string

	hasPay bool
	raw    string
}

// HasPayloadHash reports whether the token has a pay claim, even an empty one.
func (c *Claims) HasPayloadHash() bool { return c.hasPay }

// RawJSON returns the claim set as the token carried it: every claim,
// including those this package does not interpret.
func (c *Claims) RawJSON() string { return c.raw }

// Decode unmarshals the claim set into v with encoding/json, to read claims
// this package does not interpret.
func (c *Claims) Decode(v any) error { return json.Unmarshal([]byte(c.raw), v) }
