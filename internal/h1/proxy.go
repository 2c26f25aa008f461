package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"os"
	"runtime/debug"
	"strings"
	"sync"
)

// Proxy is a reverse proxy for the plain requests a [Transport] carries,
// without what httputil.ReverseProxy does for every request whether it
// needs it or not (a second copy of the request for the 1xx trace, a
// media-type parse of every response, header copies through
// canonicalising Add, a timer goroutine to flush streams). It behaves as
// a ReverseProxy configured with the same fields: the same headers are
// removed and added, Rewrite is called on the same outbound request, the
// response, its 1xx responses and its trailers reach the client the same
// way, and errors go to the same handler; the differential tests hold the
// two to the same bytes on both sides. Requests it does not cover go to
// Fallback, which should be that ReverseProxy: HTTP/2 clients, CONNECT,
// upgrades, Expect, TE, trailers, streamed bodies, and queries
// ReverseProxy would rewrite.
type Proxy struct {
	// Transport sends the outbound request; it is required. 1xx
	// responses reach the client through the request context's
	// httptrace.ClientTrace, as with ReverseProxy.
	Transport http.RoundTripper
	// Rewrite edits the outbound request, as ReverseProxy's does; it is
	// required.
	Rewrite func(*httputil.ProxyRequest)
	// ModifyResponse, if set, may refuse a response with an error, which
	// goes to ErrorHandler.
	ModifyResponse func(*http.Response) error
	// ErrorHandler answers when the upstream could not be reached or its
	// response was refused; it is required.
	ErrorHandler func(http.ResponseWriter, *http.Request, error)
	// ErrorLog receives a line for a response body that broke off; nil
	// for the standard logger.
	ErrorLog *log.Logger
	// BufferPool lends the buffers bodies are copied with; nil allocates
	// one per response.
	BufferPool httputil.BufferPool
	// Fallback serves the requests the proxy does not cover.
	Fallback http.Handler
}

// ProxyFor returns a Proxy with rp's fields in front of rp, which serves
// what the Proxy does not cover; or rp itself when the Proxy cannot stand
// for it: a Director instead of a Rewrite, a FlushInterval, no Transport
// (ReverseProxy's default), or a hook the Proxy has no part for
// (ErrorHandler nil: ReverseProxy logs and answers 502 itself).
func ProxyFor(rp *httputil.ReverseProxy) http.Handler {
	//lint:ignore SA1019 a ReverseProxy with a Director, deprecated or not, is one the Proxy cannot stand for
	if rp.Rewrite == nil || rp.Director != nil || rp.FlushInterval != 0 || rp.Transport == nil || rp.ErrorHandler == nil {
		return rp
	}
	return &Proxy{
		Transport:      rp.Transport,
		Rewrite:        rp.Rewrite,
		ModifyResponse: rp.ModifyResponse,
		ErrorHandler:   rp.ErrorHandler,
		ErrorLog:       rp.ErrorLog,
		BufferPool:     rp.BufferPool,
		Fallback:       rp,
	}
}

// Covers reports whether the proxy serves r itself rather than passing it
// to Fallback: an HTTP/1.x request other than CONNECT, with no Upgrade,
// Expect, TE or Trailer header, no trailers, a cancellable context, a
// query ReverseProxy would forward as it is (no semicolon, no malformed
// escape, at most 1,000 parameters, no urlmaxqueryparams GODEBUG
// setting), and a body that is empty or a [BufferedBody] of its
// ContentLength, at most [MaxFastBody].
func Covers(r *http.Request) bool {
	if r.ProtoMajor != 1 || r.Method == http.MethodConnect || len(r.Trailer) > 0 || len(r.TransferEncoding) > 0 {
		return false
	}
	if r.Context().Done() == nil {
		return false // ReverseProxy would watch for the client through CloseNotifier
	}
	h := r.Header
	if h == nil {
		return false
	}
	for _, k := range [...]string{"Upgrade", "Expect", "Te", "Trailer"} {
		if _, ok := h[k]; ok {
			return false
		}
	}
	if r.URL == nil || !plainQuery(r.URL.RawQuery) {
		return false
	}
	if r.ContentLength == 0 {
		return true
	}
	b, ok := r.Body.(BufferedBody)
	return ok && int64(len(b.Bytes())) == r.ContentLength && r.ContentLength <= MaxFastBody
}

// maxPlainParams is the most parameters a query the Proxy forwards may
// have. ReverseProxy re-encodes a query with more than net/url's limit
// (10,000 in Go 1.26), which parses as none, so drops it; a query with
// more than this, far below that limit, is left to ReverseProxy.
const maxPlainParams = 1000

// plainQuery reports whether ReverseProxy forwards the raw query q as it
// is. It re-encodes, from its parsed form, a query with a semicolon, a
// malformed escape or too many parameters, and every query when a
// urlmaxqueryparams GODEBUG setting is in force.
func plainQuery(q string) bool {
	if q == "" {
		return true
	}
	if strings.Count(q, "&") >= maxPlainParams || queryLimitSet() {
		return false
	}
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

// buildGODEBUG is the GODEBUG default built into the binary (from go.mod's
// go and godebug lines), which the environment's GODEBUG overrides.
var buildGODEBUG = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "DefaultGODEBUG" {
				return s.Value
			}
		}
	}
	return ""
}()

// queryLimitSet reports whether a urlmaxqueryparams setting may be in
// force, from the build's default or the environment, read each time
// as net/url reads it: any mention counts, which at worst leaves a query
// to ReverseProxy.
func queryLimitSet() bool {
	const name = "urlmaxqueryparams"
	return strings.Contains(buildGODEBUG, name) || strings.Contains(os.Getenv("GODEBUG"), name)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hopByHop are the headers that concern one connection only, removed in
// both directions besides those the Connection header names (RFC 9110
// section 7.6.1; the list ReverseProxy removes).
var hopByHop = [...]string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// removeHopByHop deletes from h the headers its Connection header names,
// then the hop-by-hop ones.
func removeHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, k := range hopByHop {
		delete(h, k)
	}
}

// addHeader appends src's values to dst's, keys canonicalised as Add does.
// A key dst lacks takes src's slice itself, capped so that an append to
// either copies it.
func addHeader(dst, src http.Header) {
	for k, vv := range src {
		if len(vv) == 0 {
			continue // Add would add nothing, not even the key
		}
		k = textproto.CanonicalMIMEHeaderKey(k)
		if len(dst[k]) == 0 {
			dst[k] = vv[:len(vv):len(vv)]
			continue
		}
		dst[k] = append(dst[k], vv...)
	}
}

// ServeHTTP proxies r, or passes it to Fallback when [Covers] says no.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !Covers(r) {
		p.Fallback.ServeHTTP(w, r)
		return
	}

	// 1xx responses are relayed as they come, until RoundTrip returns:
	// net/http's Transport may report one from its own goroutine.
	var mu sync.Mutex
	returned := false
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			return nil
		}
		h := w.Header()
		addHeader(h, http.Header(header))
		w.WriteHeader(code)
		clear(h) // WriteHeader keeps them for the next response otherwise
		return nil
	}}
	out := r.Clone(httptrace.WithClientTrace(r.Context(), trace))
	if r.ContentLength == 0 {
		out.Body = nil
	} else {
		out.Body = NewBufferedBody(r.Body.(BufferedBody).Bytes())
	}
	out.Close = false
	h := out.Header
	removeHopByHop(h)
	// Forwarding headers are the Rewrite's to set, from what it trusts.
	for _, k := range [...]string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		delete(h, k)
	}
	pr := &httputil.ProxyRequest{In: r, Out: out}
	p.Rewrite(pr)
	out = pr.Out
	if _, ok := out.Header["User-Agent"]; !ok {
		// No User-Agent of net/http's own in the client's name.
		out.Header["User-Agent"] = []string{""}
	}

	res, err := p.Transport.RoundTrip(out)
	mu.Lock()
	returned = true
	mu.Unlock()
	if err != nil {
		p.ErrorHandler(w, out, err)
		return
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		removeHopByHop(res.Header)
	}
	if p.ModifyResponse != nil {
		if err := p.ModifyResponse(res); err != nil {
			res.Body.Close()
			p.ErrorHandler(w, out, err)
			return
		}
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		res.Body.Close()
		p.ErrorHandler(w, out, errors.New("h1: upstream switched protocols on a request that asked for no upgrade"))
		return
	}
	wh := w.Header()
	addHeader(wh, res.Header)
	// Trailers the upstream announced are announced to the client, which
	// reads them as trailers only then.
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		wh.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)

	if err := p.copyBody(w, res); err != nil {
		res.Body.Close()
		if r.Context().Value(http.ServerContextKey) != nil {
			// The answer is cut short: the server must not end it as if
			// it were whole, and closes the connection.
			panic(http.ErrAbortHandler)
		}
		return
	}
	res.Body.Close() // which fills in res.Trailer
	if len(res.Trailer) > 0 {
		// Chunked, whatever the body's size, so that trailers can follow.
		http.NewResponseController(w).Flush()
	}
	if len(res.Trailer) == announced {
		addHeader(wh, res.Trailer)
		return
	}
	for k, vv := range res.Trailer {
		k = http.TrailerPrefix + k
		for _, v := range vv {
			wh.Add(k, v)
		}
	}
}

// streams reports whether res is flushed to the client as it comes, as
// ReverseProxy does: a body of unknown length, or server-sent events.
func streams(res *http.Response) bool {
	if res.ContentLength == -1 {
		return true
	}
	ct := res.Header.Get("Content-Type")
	if !strings.Contains(strings.ToLower(ct), "event-stream") {
		return false // the common case, without a parse
	}
	base, _, _ := mime.ParseMediaType(ct)
	return base == "text/event-stream"
}

// copyBody copies res's body to w, flushing the header and then each
// write when it streams. A read error is logged unless it is the client
// going away; the error returned, read or write, means the answer is
// incomplete. A flush that fails is not one: as with ReverseProxy, the
// next write reports a connection gone, and a writer that cannot flush
// still gets the whole body.
func (p *Proxy) copyBody(w http.ResponseWriter, res *http.Response) error {
	var flush func() error
	if streams(res) {
		flush = http.NewResponseController(w).Flush
		flush()
	}
	var buf []byte
	if p.BufferPool != nil {
		buf = p.BufferPool.Get()
		defer p.BufferPool.Put(buf)
	}
	if len(buf) == 0 {
		buf = make([]byte, 32<<10)
	}
	for {
		n, rerr := res.Body.Read(buf)
		if rerr != nil && rerr != io.EOF && rerr != context.Canceled {
			p.logf("h1: proxy: read error during body copy: %v", rerr)
		}
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			if flush != nil {
				flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

func (p *Proxy) logf(format string, args ...any) {
	if p.ErrorLog != nil {
		p.ErrorLog.Output(2, fmt.Sprintf(format, args...))
		return
	}
	log.Printf(format, args...)
}
