package main_test

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// load keeps clients sending requests until stopped, and counts the
// answers: 200s as ok, anything else (an error, another status) as failed,
// with the distinct failures kept for the report.
type load struct {
	ok, failed atomic.Int64
	failures   sync.Map
	stop       chan struct{}
	stopOnce   sync.Once
	wg         sync.WaitGroup
}

// startLoad starts clients goroutines, each sending the requests newReq
// makes, one after another; the load stops when the test ends, if not
// before.
func startLoad(t *testing.T, clients int, newReq func() *http.Request) *load {
	l := &load{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				resp, err := client.Do(newReq())
				if err != nil {
					l.failed.Add(1)
					l.failures.Store(err.Error(), true)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					l.ok.Add(1)
				} else {
					l.failed.Add(1)
					l.failures.Store(resp.Status, true)
				}
			}
		}()
	}
	t.Cleanup(l.Stop)
	return l
}

// Stop stops the clients and waits for their last requests.
func (l *load) Stop() {
	l.stopOnce.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// check fails t if any request has failed so far, saying which way.
func (l *load) check(t *testing.T, stage string) {
	t.Helper()
	if n := l.failed.Load(); n > 0 {
		var reasons []string
		l.failures.Range(func(k, _ any) bool { reasons = append(reasons, k.(string)); return true })
		t.Fatalf("%s: %d of %d requests failed: %v", stage, n, l.ok.Load()+n, reasons)
	}
}
