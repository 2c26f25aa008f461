package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
)

// Every request gets an id: a trusted proxy's X-Request-Id when it sent a
// sound one, else a new one. It is on every log line about the request,
// sent upstream, answered to the client, and is the assertion's jti, so
// that one id follows a request from the load balancer to Django's log.

// RequestIDHeader is the header request ids travel in.
const RequestIDHeader = "X-Request-Id"

// maxRequestID is the longest request id taken from a proxy.
const maxRequestID = 128

type requestIDKey struct{}

// withRequestID returns r's context with its request id, and the id.
func (st *state) withRequestID(r *http.Request) (context.Context, string) {
	id := ""
	if v := r.Header[RequestIDHeader]; len(v) == 1 && validRequestID(v[0]) && st.isTrusted(r.RemoteAddr) {
		id = v[0]
	} else {
		id = newRequestID()
	}
	return context.WithValue(r.Context(), requestIDKey{}, id), id
}

// idPrefix is this process's random part of the request ids it makes;
// idCount the counted part. Ids need to be unique, not unpredictable, and
// a counter costs nothing where 16 random bytes cost a system call.
var (
	idPrefix = func() string {
		var b [9]byte
		rand.Read(b[:])
		return base64.RawURLEncoding.EncodeToString(b[:])
	}()
	idCount atomic.Uint64
)

// newRequestID returns an id unique to this request: 12 random characters
// chosen at start-up, then a counter.
func newRequestID() string {
	var buf [32]byte
	b := append(buf[:0], idPrefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, idCount.Add(1), 36)
	return string(b)
}

// requestID returns the request id in ctx, or "".
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// validRequestID reports whether a proxy's request id is one to keep:
// short, and only characters that need no escaping anywhere it goes.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// requestIDHandler adds the request id of the record's context to every
// log line, whoever writes it: the gateway, or the approovhttp middleware,
// which logs with the request's context.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := requestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
