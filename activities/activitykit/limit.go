package activitykit

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrResponseTooLarge is the read error of a body over the LimitResponses cap.
type ErrResponseTooLarge struct{ Max int64 }

func (e *ErrResponseTooLarge) Error() string {
	return fmt.Sprintf("maxContentLength size of %d exceeded", e.Max)
}

// LimitResponses returns a copy of hc (http.DefaultClient when nil) whose
// response bodies fail with *ErrResponseTooLarge once more than max bytes
// are read (max <= 0: DefaultMaxBytes), for SDK clients (slack-go,
// go-jira, go-pagerduty) that read whole bodies themselves. It also
// refuses redirects that leave the host of the original request: SDK
// transports re-attach credentials (basic auth, a routing key in a
// 307-replayed body) to every request, so following one would hand them to
// another host.
func LimitResponses(hc *http.Client, max int64) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	if max <= 0 {
		max = DefaultMaxBytes
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp := *hc
	cp.Transport = &limitTransport{base: base, max: max}
	next := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			return fmt.Errorf("redirect to another host (%s) refused", req.URL.Scheme+"://"+req.URL.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return fmt.Errorf("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

type limitTransport struct {
	base http.RoundTripper
	max  int64
}

// RoundTrip implements http.RoundTripper.
func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil || res.Body == nil {
		return res, err
	}
	res.Body = &limitBody{rc: res.Body, left: t.max, max: t.max}
	return res, nil
}

type limitBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
}

func (b *limitBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &ErrResponseTooLarge{Max: b.max}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, &ErrResponseTooLarge{Max: b.max}
	}
	return n, err
}

func (b *limitBody) Close() error { return b.rc.Close() }
