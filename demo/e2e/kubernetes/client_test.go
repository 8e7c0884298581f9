package kubernetes

import (
	"net/http"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// hostClient is a fleet client of baseURL that sends every request, WebSocket
// upgrades included, with the Host header host: that is how the IngressRoute and the
// HTTPRoute are told apart on the one web entry point.
func hostClient(baseURL, host string) *fleet.Client {
	c := fleet.NewClient(baseURL)
	c.HTTP.Transport = hostTransport{host: host, next: c.HTTP.Transport}
	return c
}

type hostTransport struct {
	host string
	next http.RoundTripper
}

func (h hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Host = h.host
	return h.next.RoundTrip(req)
}
