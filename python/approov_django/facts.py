"""request.approov: what is known of the caller's Approov token."""


class ApproovFacts:
    """What is known of the caller's Approov token.

    result is "ok" when the token (and its binding, where the view or the
    gateway's route requires one) was valid; "public" when nothing was
    checked (an exempt view, or a public route at the gateway); otherwise,
    only in monitor mode, the reason code the token failed with, such as
    "token_expired". device_id is the token's did; expiry its exp, an aware
    datetime; claims the further claims (ip, arc, ipk, mskid, pay, iss,
    sub) that are set; bound_headers the lower-case names of the headers
    the token was checked to be bound to.
    """

    __slots__ = ("result", "device_id", "expiry", "claims", "bound_headers")

    def __init__(self, result=None, device_id=None, expiry=None, claims=None, bound_headers=()):
        self.result = result
        self.device_id = device_id
        self.expiry = expiry
        self.claims = claims if claims is not None else {}
        self.bound_headers = tuple(bound_headers)

    @property
    def verified(self):
        """True when the token (and its binding, if required) was valid."""
        return self.result == "ok"

    def __repr__(self):
        return "ApproovFacts(result=%r, device_id=%r, expiry=%r, claims=%r, bound_headers=%r)" % (
            self.result, self.device_id, self.expiry, self.claims, self.bound_headers)
