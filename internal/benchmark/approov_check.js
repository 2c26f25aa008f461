// The Approov token check a user of nginx with njs would write, for the
// benchmark: an HS256 JWT in Approov-Token, signed with the secret in
// APPROOV_BASE64_SECRET (nginx.conf: env APPROOV_BASE64_SECRET;), with a
// numeric exp in the future. nginx.conf uses it as
//
//     js_import approov from approov_check.js;
//     js_set $approov_ok approov.check;
//     if ($approov_ok != 1) { return 401 '{}'; }
//
// njs 0.7 runs this file's top-level code again for every request, so it
// keeps none: the secret is decoded only once a token has the right shape.

var crypto = require('crypto');

function decodeJSON(part) {
    return JSON.parse(Buffer.from(part, 'base64url').toString());
}

// sameString compares in time that depends on the length only.
function sameString(a, b) {
    if (a.length !== b.length) {
        return false;
    }
    var diff = 0;
    for (var i = 0; i < a.length; i++) {
        diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    }
    return diff === 0;
}

function verify(token) {
    var parts = token.split('.');
    if (parts.length !== 3) {
        return false;
    }
    var header = decodeJSON(parts[0]);
    if (header === null || typeof header !== 'object' || header.alg !== 'HS256') {
        return false;
    }
    var key = Buffer.from(process.env.APPROOV_BASE64_SECRET, 'base64');
    var mac = crypto.createHmac('sha256', key).update(parts[0] + '.' + parts[1]).digest('base64url');
    if (!sameString(mac, parts[2])) {
        return false;
    }
    var claims = decodeJSON(parts[1]);
    if (claims === null || typeof claims !== 'object') {
        return false;
    }
    return typeof claims.exp === 'number' && isFinite(claims.exp) && claims.exp > Date.now() / 1000;
}

// check is the value of $approov_ok: "1" for a valid token, "0" otherwise.
function check(r) {
    var token = r.headersIn['Approov-Token'];
    if (!token) {
        return '0';
    }
    try {
        return verify(token) ? '1' : '0';
    } catch (e) {
        return '0'; // malformed base64 or JSON
    }
}

export default {check};
