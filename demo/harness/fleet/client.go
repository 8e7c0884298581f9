// Package fleet simulates the devices of stores talking to the Commerce API through a
// proxy: each store has a POS and a customer display (CX), each holding a WebSocket and
// making REST calls. It records which replica served every device and when.
package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
)

// Client calls the Commerce API at a base URL such as http://127.0.0.1:8000.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Header is added to every request (for example a forged sticky cookie).
	Header http.Header
	// Stomp makes every WebSocket the OpenPOS client's: /api/websocket, with the
	// device named only in its STOMP CONNECT frame.
	Stomp bool
}

// NewClient returns a client of baseURL with its own connection pool.
func NewClient(baseURL string) *Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), HTTP: &http.Client{Transport: transport}}
}

// DevicePath returns the API path of a device's resource (commerce.TicketPath etc.).
func DevicePath(device, resource string) string {
	return commerce.Prefix + "/" + device + "/" + resource
}

// Response is a decoded answer with the headers that matter to affinity.
type Response struct {
	Status int
	Reply  commerce.Reply
	Header http.Header
	Body   string
}

// Get requests path and decodes the Reply of a 200 answer.
func (c *Client) Get(ctx context.Context, path string) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return Response{}, err
	}
	for name, values := range c.Header {
		req.Header[name] = values
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	out := Response{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		out.Body = string(body)
		return out, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&out.Reply); err != nil {
		return out, fmt.Errorf("decode %s: %w", path, err)
	}
	return out, nil
}

// Ticket makes a stateful REST call for device.
func (c *Client) Ticket(ctx context.Context, device string) (Response, error) {
	return c.Get(ctx, DevicePath(device, commerce.TicketPath))
}
