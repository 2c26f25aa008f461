"""ApproovMiddleware through Django's test client, in both modes, sync and
async, with every policy."""
import json
from unittest import mock

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import AsyncClient, SimpleTestCase, override_settings

from approov_django.middleware import ApproovMiddleware, LogLimiter
import django

from approov_django.testing import approov_headers, asgi_headers, make_assertion, make_token

def for_async(meta):
    """Headers as this Django's AsyncClient takes them."""
    return asgi_headers(meta) if django.VERSION < (4, 0) else meta


IN_PROCESS = {"APPROOV_MODE": "in_process", "APPROOV_BASE64_SECRET": settings.TOKEN_SECRET, "APPROOV_ASSERTION_SECRET": None}


class GatewayModeTests(SimpleTestCase):
    def get(self, path, **extra):
        r = self.client.get(path, **extra)
        return r.status_code, json.loads(r.content)

    def test_facts_from_the_assertion(self):
        status, body = self.get("/orders/7", **approov_headers(method="GET", path="/orders/7", did="phone-1",
                                                                claims={"ip": "1.2.3.4"}))
        self.assertEqual(status, 200, body)
        self.assertEqual((body["result"], body["device_id"], body["verified"]), ("ok", "phone-1", True))
        self.assertEqual(body["claims"], {"ip": "1.2.3.4"})
        self.assertIsNotNone(body["expiry"])

    def test_refusals(self):
        ok = approov_headers(path="/orders/7")
        cases = {
            "no assertion": {},
            "forged facts only": {"HTTP_APPROOV_RESULT": "ok", "HTTP_APPROOV_DEVICE_ID": "victim"},
            "replayed on another path": approov_headers(path="/orders/8"),
            "replayed with another method": approov_headers(method="POST", path="/orders/7"),
            "for another host": {"HTTP_HOST": "testserver", "HTTP_APPROOV_ASSERTION": make_assertion(
                host="api.example.com", target="/orders/7")},
            "expired": {"HTTP_APPROOV_ASSERTION": make_assertion(target="/orders/7", issued_at=1_000_000)},
            "another key": {"HTTP_APPROOV_ASSERTION": make_assertion(
                target="/orders/7", secret="8Yk2LmQ9wXbN4pR1cT6vZ3dF7hJ0aS5eU2iO9sG4qVw=")},
            "two of them": {"HTTP_APPROOV_ASSERTION": ok["HTTP_APPROOV_ASSERTION"] + "," + ok["HTTP_APPROOV_ASSERTION"]},
        }
        for name, headers in cases.items():
            with self.subTest(name):
                self.assertEqual(self.get("/orders/7", **headers), (401, {}))

    def test_forged_facts_beside_a_valid_assertion_are_ignored(self):
        headers = approov_headers(path="/", did="phone-1")
        headers.update({"HTTP_APPROOV_DEVICE_ID": "victim", "HTTP_APPROOV_RESULT": "ok"})
        status, body = self.get("/", **headers)
        self.assertEqual((status, body["device_id"]), (200, "phone-1"))

    def test_policies(self):
        public = dict(result="public", did=None)
        # Exempt and optional views take the gateway's public verdict; a
        # required one does not, whatever the gateway thought.
        self.assertEqual(self.get("/healthz", **approov_headers(path="/healthz", **public))[0], 200)
        self.assertEqual(self.get("/optional", **approov_headers(path="/optional", **public))[0], 200)
        self.assertEqual(self.get("/exempt-class", **approov_headers(path="/exempt-class", **public))[0], 200)
        self.assertEqual(self.get("/", **approov_headers(path="/", **public)), (401, {}))
        # A failure verdict is one only a gateway in monitor mode signs.
        status, body = self.get("/", **approov_headers(path="/", result="token_expired", did=None))
        self.assertEqual((status, body["verified"], body["result"]), (200, False, "token_expired"))
        # An exempt view still needs the gateway.
        self.assertEqual(self.get("/healthz"), (401, {}))
        # A 404 gets the default policy.
        self.assertEqual(self.get("/nowhere", **approov_headers(path="/nowhere", **public)), (401, {}))

    def test_binding_the_gateway_checked(self):
        bound = approov_headers(path="/bound", bind="Bearer alice")
        status, body = self.get("/bound", **bound)
        self.assertEqual((status, body["bound"]), (200, ["authorization"]))
        # Without the gateway's word that it checked the binding: refused.
        self.assertEqual(self.get("/bound", **approov_headers(path="/bound")), (401, {}))
        # The credential changed on the way: the assertion's own hash fails.
        bound["HTTP_AUTHORIZATION"] = "Bearer mallory"
        self.assertEqual(self.get("/bound", **bound), (401, {}))

    @override_settings(APPROOV_MONITOR=True)
    def test_monitor_lets_the_view_policy_pass_but_not_a_bad_assertion(self):
        status, body = self.get("/", **approov_headers(path="/", result="public", did=None))
        self.assertEqual((status, body["verified"], body["result"]), (200, False, "public"))
        self.assertEqual(self.get("/"), (401, {}))

    @override_settings(APPROOV_SCRIPT_NAME="")
    def test_script_name_from_a_client_is_refused(self):
        headers = approov_headers(path="/public/orders/7")
        r = self.client.get("/orders/7", SCRIPT_NAME="/public", RAW_URI="/public/orders/7", **headers)
        self.assertEqual(r.status_code, 400)

    @override_settings(MIDDLEWARE=["approov_django.middleware.ApproovMiddleware", "testproject.hostconf.HostURLConf"])
    def test_the_view_django_runs_decides(self):
        # /healthz is exempt in the root URLconf; the api. host's, which a
        # later middleware picks, makes it a required view, which refuses
        # the gateway's verdict "public".
        headers = approov_headers(path="/healthz", host="api.example.com", result="public", did=None)
        self.assertEqual(self.get("/healthz", **headers), (401, {}))
        self.assertEqual(self.get("/healthz", **approov_headers(path="/healthz", host="api.example.com"))[0], 200)

    def test_async(self):
        async def run():
            client = AsyncClient()
            ok = await client.get("/async", **for_async(approov_headers(path="/async", did="phone-2")))
            refused = await client.get("/async")
            return ok, refused
        from asgiref.sync import async_to_sync
        ok, refused = async_to_sync(run)()
        self.assertEqual((ok.status_code, json.loads(ok.content)["device_id"]), (200, "phone-2"))
        self.assertEqual((refused.status_code, json.loads(refused.content)), (401, {}))


@override_settings(**IN_PROCESS)
class InProcessModeTests(SimpleTestCase):
    def get(self, path, **extra):
        r = self.client.get(path, **extra)
        return r.status_code, json.loads(r.content)

    def test_valid_token(self):
        status, body = self.get("/", **approov_headers(did="phone-1", claims={"ip": "1.2.3.4"}))
        self.assertEqual(status, 200, body)
        self.assertEqual((body["result"], body["device_id"], body["claims"]), ("ok", "phone-1", {"ip": "1.2.3.4"}))

    def test_refusals(self):
        cases = {
            "no token": {},
            "expired": {"HTTP_APPROOV_TOKEN": make_token(expires_in=-10)},
            "exp null (the vendor quickstart's 500)": {"HTTP_APPROOV_TOKEN": make_token(claims={"exp": None})},
            "another account": {"HTTP_APPROOV_TOKEN": make_token(
                secret="8Yk2LmQ9wXbN4pR1cT6vZ3dF7hJ0aS5eU2iO9sG4qVw=")},
            "two tokens": {"HTTP_APPROOV_TOKEN": make_token() + "," + make_token()},
            "not a token": {"HTTP_APPROOV_TOKEN": "not-a-token"},
        }
        for name, headers in cases.items():
            with self.subTest(name):
                self.assertEqual(self.get("/", **headers), (401, {}))

    def test_logs_name_the_reason_never_the_token(self):
        token = make_token(expires_in=-10)
        with self.assertLogs("approov", "WARNING") as logs:
            self.assertEqual(self.get("/", HTTP_APPROOV_TOKEN=token), (401, {}))
        self.assertEqual([r.reason for r in logs.records], ["token_expired"])
        for part in token.split("."):
            self.assertNotIn(part, "\n".join(logs.output))

    @override_settings(APPROOV_LOG_REFUSALS_PER_SECOND=2)
    def test_refusal_warnings_are_bounded(self):
        token = make_token(expires_in=-10)
        with mock.patch("approov_django.middleware.time.time", return_value=1000.5), \
                self.assertLogs("approov", "WARNING") as logs:
            for _ in range(5):
                self.assertEqual(self.get("/", HTTP_APPROOV_TOKEN=token), (401, {}))
        self.assertEqual([r.reason for r in logs.records], ["token_expired"] * 2)
        with mock.patch("approov_django.middleware.time.time", return_value=1001.5), \
                self.assertLogs("approov", "WARNING") as logs:
            self.assertEqual(self.get("/", HTTP_APPROOV_TOKEN=token), (401, {}))
        self.assertEqual(getattr(logs.records[0], "count", None), 3, logs.output)
        self.assertEqual(logs.records[1].reason, "token_expired")

    def test_policies(self):
        status, body = self.get("/healthz")
        self.assertEqual((status, body["result"]), (200, "public"))
        status, body = self.get("/optional")
        self.assertEqual((status, body["result"], body["verified"]), (200, "token_missing", False))
        self.assertEqual(self.get("/nowhere"), (401, {}))
        self.assertEqual(self.client.get("/nowhere", **approov_headers()).status_code, 404)

    def test_a_view_exempt_on_one_url_only(self):
        self.assertEqual(self.get("/public/default")[0], 200)
        self.assertEqual(self.get("/"), (401, {}))

    @override_settings(MIDDLEWARE=["approov_django.middleware.ApproovMiddleware", "testproject.hostconf.HostURLConf"])
    def test_the_view_django_runs_decides_not_the_first_lookup(self):
        # A later middleware switches the URLconf: /healthz is exempt in the
        # root one, protected in the api. host's.
        self.assertEqual(self.get("/healthz", HTTP_HOST="api.example.com"), (401, {}))
        self.assertEqual(self.get("/healthz", HTTP_HOST="api.example.com", **approov_headers())[0], 200)
        self.assertEqual(self.get("/healthz")[0], 200)

    @override_settings(ROOT_URLCONF="testproject.urls_i18n", USE_I18N=True, LANGUAGES=[("en", "English"), ("fr", "French")],
                       MIDDLEWARE=["approov_django.middleware.ApproovMiddleware", "django.middleware.locale.LocaleMiddleware"])
    def test_language_prefixed_urls(self):
        unbound = approov_headers(claims={})
        unbound["HTTP_AUTHORIZATION"] = "Bearer victim"
        for lang in ("en", "fr"):
            with self.subTest(lang):
                self.assertEqual(self.get("/%s/transfer/" % lang, **unbound), (401, {}))
                self.assertEqual(self.get("/%s/transfer/" % lang, **approov_headers(bind="Bearer alice"))[0], 200)

    @override_settings(APPROOV_BINDING_OPTIONAL=True)
    def test_optional_binding_binds_nothing_without_pay(self):
        status, body = self.get("/bound", **approov_headers())
        self.assertEqual((status, body["bound"]), (200, []))
        status, body = self.get("/bound", **approov_headers(bind="Bearer alice"))
        self.assertEqual((status, body["bound"]), (200, ["authorization"]))

    def test_attacker_bytes_are_refused_not_crashed_on(self):
        head, _, sig = make_token().split(".")
        for token in (head + ".\xe9." + sig, head + "." + "\xff" * 40 + "." + sig):
            with self.subTest(token=token[-50:]):
                self.assertEqual(self.get("/", HTTP_APPROOV_TOKEN=token), (401, {}))

    def test_a_token_expiring_at_the_end_of_year_9999(self):
        # The Go library accepts it; float() rounds it into the year 10000.
        import jwt
        from approov_django.tokens import parse_secret
        key = parse_secret(settings.TOKEN_SECRET)
        signing_input = (jwt.utils.base64url_encode(b'{"alg":"HS256"}') + b"." +
                         jwt.utils.base64url_encode(b'{"exp":253402300799.9999999,"did":"d"}'))
        import hmac, hashlib
        token = (signing_input + b"." + jwt.utils.base64url_encode(hmac.new(key, signing_input, hashlib.sha256).digest())).decode()
        status, body = self.get("/", HTTP_APPROOV_TOKEN=token)
        self.assertEqual((status, body["expiry"]), (200, "9999-12-31T23:59:59+00:00"))

    def test_a_line_break_in_the_path_stays_in_one_log_line(self):
        with self.assertLogs("approov", "WARNING") as logs:
            self.get("/whoami%0Aapproov%20accepted%20GET%20/admin")
        self.assertEqual(len(logs.output), 1)
        self.assertNotIn("\n", logs.output[0])

    def test_binding_per_view(self):
        self.assertEqual(self.get("/bound", **approov_headers(bind="Bearer alice"))[0], 200)
        self.assertEqual(self.get("/bound", **approov_headers()), (401, {}))
        wrong = approov_headers(bind="Bearer alice")
        wrong["HTTP_AUTHORIZATION"] = "Bearer mallory"
        self.assertEqual(self.get("/bound", **wrong), (401, {}))

    @override_settings(APPROOV_BINDING_HEADERS=["Authorization"])
    def test_default_binding(self):
        self.assertEqual(self.get("/", **approov_headers()), (401, {}))
        self.assertEqual(self.get("/", **approov_headers(bind="Bearer alice"))[0], 200)
        self.assertEqual(self.get("/unbound", **approov_headers())[0], 200)

    @override_settings(APPROOV_MONITOR=True)
    def test_monitor(self):
        status, body = self.get("/", HTTP_APPROOV_TOKEN=make_token(expires_in=-10))
        self.assertEqual((status, body["result"]), (200, "token_expired"))

    def test_drf(self):
        r = self.client.get("/drf", **approov_headers(did="phone-3"))
        self.assertEqual((r.status_code, r.json()), (200, {"device_id": "phone-3", "user_anonymous": True}))
        r = self.client.get("/drf")
        self.assertEqual((r.status_code, r.json()), (401, {}))

    def test_async(self):
        async def run():
            client = AsyncClient()
            return await client.get("/async", **for_async(approov_headers())), await client.get("/async")
        from asgiref.sync import async_to_sync
        ok, refused = async_to_sync(run)()
        self.assertEqual((ok.status_code, refused.status_code), (200, 401))


class ConfigurationTests(SimpleTestCase):
    def build(self):
        return ApproovMiddleware(lambda request: None)

    @override_settings(APPROOV_ASSERTION_SECRET="")
    def test_gateway_mode_needs_the_assertion_secret(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "APPROOV_ASSERTION_SECRET: required in gateway mode"):
            self.build()

    @override_settings(APPROOV_MODE="in_process", APPROOV_LEEWAY="soon", APPROOV_BINDING_HEADERS=["Bad Name"],
                       APPROOV_DEFAULT_POLICY="maybe")
    def test_every_problem_at_once(self):
        with self.assertRaises(ImproperlyConfigured) as cm:
            self.build()
        message = str(cm.exception)
        for name in ("APPROOV_BASE64_SECRET", "APPROOV_LEEWAY", "APPROOV_BINDING_HEADERS", "APPROOV_DEFAULT_POLICY"):
            self.assertIn(name, message)

    @override_settings(APPROOV_MODE="in_process", APPROOV_BASE64_SECRET="c2hvcnQ=")
    def test_short_secret_named_not_shown(self):
        with self.assertRaises(ImproperlyConfigured) as cm:
            self.build()
        self.assertIn("at least 32", str(cm.exception))
        self.assertNotIn("c2hvcnQ", str(cm.exception))

    @override_settings(APPROOV_LOG_REFUSALS_PER_SECOND="many")
    def test_log_limit_is_a_count(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "APPROOV_LOG_REFUSALS_PER_SECOND"):
            self.build()

    @override_settings(APPROOV_MODE="proxy")
    def test_mode_is_explicit(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "APPROOV_MODE"):
            self.build()


class LogLimiterTests(SimpleTestCase):
    def test_per_second(self):
        now = [10.0]
        limit = LogLimiter(2, clock=lambda: now[0])
        self.assertEqual([limit.allow() for _ in range(5)], [(True, 0), (True, 0), (False, 0), (False, 0), (False, 0)])
        now[0] = 11.2
        self.assertEqual([limit.allow() for _ in range(3)], [(True, 3), (True, 0), (False, 0)])

    def test_zero_lets_every_line_through(self):
        limit = LogLimiter(0, clock=lambda: 10.0)
        self.assertEqual({limit.allow() for _ in range(1000)}, {(True, 0)})
