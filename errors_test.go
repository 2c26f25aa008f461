package approov_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/approov-gateway/approov"
)

func TestVerifyStatusAndErrorsCarryNoToken(t *testing.T) {
	v := newTestVerifier(t)
	_, err := v.Verify(mustSignJSON(t, otherSigner, hs256Header, expClaims("")))
	if !errors.Is(err, approov.ErrBadSignature) {
		t.Fatalf("errors.Is(%v, ErrBadSignature) = false", err)
	}
	var e *approov.Error
	if !errors.As(err, &e) || e.Reason() != "token_signature" || e.Detail() == "" {
		t.Fatalf("errors.As(*Error): %#v", err)
	}
}

func TestReasons(t *testing.T) {
	codes := approov.Reasons()
	seen := map[string]bool{}
	for _, c := range codes {
		if seen[c] || c == approov.ReasonOK || c == approov.ReasonOther {
			t.Errorf("reason %q repeated or reserved", c)
		}
		seen[c] = true
	}
	if len(codes) != 16 {
		t.Errorf("%d reasons, want 16", len(codes))
	}
	// New codes are appended, so that dashboards keep their order.
	if codes[0] != "token_missing" || codes[len(codes)-1] != "token_lifetime" {
		t.Errorf("reasons out of order: %q", codes)
	}
	if approov.Reason(nil) != "ok" || approov.Reason(errors.New("x")) != "error" {
		t.Error("Reason of nil or a foreign error")
	}
	if approov.Reason(fmt.Errorf("wrapped: %w", approov.ErrExpired)) != "token_expired" {
		t.Error("Reason does not unwrap")
	}
}

func TestErrorFor(t *testing.T) {
	for _, code := range approov.Reasons() {
		err := approov.ErrorFor(code)
		if err == nil || approov.Reason(err) != code {
			t.Errorf("approov.ErrorFor(%q) = %v", code, err)
		}
	}
	if !errors.Is(approov.ErrorFor("token_expired"), approov.ErrExpired) {
		t.Error("approov.ErrorFor(token_expired) is not ErrExpired")
	}
	for _, code := range []string{"", "ok", "error", "assertion_missing", "nonsense"} {
		if err := approov.ErrorFor(code); err != nil {
			t.Errorf("approov.ErrorFor(%q) = %v, want nil", code, err)
		}
	}
}
