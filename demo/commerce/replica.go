// Package commerce is the demo Commerce backend: a replica that keeps per-store state
// for REST, WebSocket and SSE clients, answers with its replica name, and reports which
// stores it serves and when, so that a checker can tell whether two devices of one store
// were ever served by different replicas at the same time.
//
// It is test and demo code: it is never interpreted by Traefik and may use any module.
package commerce

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Prefix is the device-affinity prefix of the demo API: the path segment after it is
// the device ID, as in /api/appId/pos/deviceId/00123-001/ticket.
const Prefix = "/api/appId/pos/deviceId"

// Paths under Prefix/<device>/: a REST call, a WebSocket and an SSE stream.
const (
	TicketPath = "ticket"
	SocketPath = "ws"
	EventsPath = "events"
)

// Replica is one Commerce backend replica listening on a loopback port.
type Replica struct {
	name     string
	listener net.Listener
	server   *http.Server
	log      *SessionLog

	mu      sync.Mutex
	seq     map[string]int64 // per-store state: a sequence shared by the store's devices
	live    map[*liveConn]struct{}
	healthy bool
}

// Start starts a replica named name on addr ("127.0.0.1:0" picks a free port).
func Start(name, addr string) (*Replica, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &Replica{
		name:     name,
		listener: listener,
		log:      NewSessionLog(name),
		seq:      map[string]int64{},
		live:     map[*liveConn]struct{}{},
		healthy:  true,
	}
	r.server = &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.server.Serve(listener) }()
	return r, nil
}

// Name returns the replica name.
func (r *Replica) Name() string { return r.name }

// Addr returns the listening address, host:port.
func (r *Replica) Addr() string { return r.listener.Addr().String() }

// URL returns the replica's base URL.
func (r *Replica) URL() string { return "http://" + r.Addr() }

// Log returns the replica's session log.
func (r *Replica) Log() *SessionLog { return r.log }

// SetHealthy makes /healthz answer 200 (true) or 503 (false).
func (r *Replica) SetHealthy(healthy bool) {
	r.mu.Lock()
	r.healthy = healthy
	r.mu.Unlock()
}

// Close stops the replica and ends its WebSockets and streams.
func (r *Replica) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.mu.Lock()
	for c := range r.live {
		c.cancel()
	}
	r.mu.Unlock()
	err := r.server.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = r.server.Close()
	}
	return err
}

// Handler returns the replica's HTTP handler.
func (r *Replica) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", r.serveHealth)
	mux.HandleFunc("GET /admin/report", r.serveReport)
	mux.HandleFunc(Prefix+"/{device}/{rest...}", r.serveDevice)
	mux.HandleFunc(StompPath, r.serveStomp)
	mux.HandleFunc("/", r.serveStateless)
	return mux
}

func (r *Replica) serveHealth(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	healthy := r.healthy
	r.mu.Unlock()
	if !healthy {
		http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (r *Replica) serveDevice(w http.ResponseWriter, req *http.Request) {
	device := req.PathValue("device")
	store, ok := StoreOf(device)
	if !ok {
		http.Error(w, "device ID has no store part", http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Replica", r.name)
	switch req.PathValue("rest") {
	case SocketPath:
		r.serveSocket(w, req, store, device)
	case EventsPath:
		r.serveEvents(w, req, store, device)
	default:
		r.serveTicket(w, req, store, device)
	}
}

// serveTicket is a stateful REST call: it advances the store's sequence.
func (r *Replica) serveTicket(w http.ResponseWriter, req *http.Request, store, device string) {
	r.log.Instant(store, device, KindREST)
	writeJSON(w, r.reply(req, store, device))
}

// serveStateless answers any other path with the replica name only.
func (r *Replica) serveStateless(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("X-Replica", r.name)
	writeJSON(w, Reply{Replica: r.name, Path: req.URL.Path, Affinity: affinityAsRead(req.Header), DeviceHeader: headerAsRead(req.Header, DeviceHeader), Cookie: req.Header.Get("Cookie")})
}

// next advances and returns the store's sequence.
func (r *Replica) next(store string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq[store]++
	return r.seq[store]
}

func (r *Replica) reply(req *http.Request, store, device string) Reply {
	return Reply{
		Replica:      r.name,
		Store:        store,
		Device:       device,
		Seq:          r.next(store),
		Affinity:     affinityAsRead(req.Header),
		DeviceHeader: headerAsRead(req.Header, DeviceHeader),
		Path:         req.URL.Path,
		Cookie:       req.Header.Get("Cookie"),
	}
}

// StoreOf returns the store part of a device ID: everything before the last "-".
func StoreOf(device string) (string, bool) {
	i := strings.LastIndexByte(device, '-')
	if i <= 0 {
		return "", false
	}
	return device[:i], true
}

// DeviceHeader is the device-ID header of the demo's clients.
const DeviceHeader = "X-Device-Id"

// affinityAsRead returns X-Store-Affinity as a CGI-style backend reads it. A backend
// can trust it only when exactly one store and member come through.
func affinityAsRead(h http.Header) string { return headerAsRead(h, "X-Store-Affinity") }

// headerAsRead returns a header as a CGI-style backend reads it: every header whose
// name is name once '_' is read as '-', in any case, joined with ", ".
func headerAsRead(h http.Header, name string) string {
	var values []string
	for key, v := range h {
		if strings.EqualFold(strings.ReplaceAll(key, "_", "-"), name) {
			values = append(values, v...)
		}
	}
	sort.Strings(values)
	return strings.Join(values, ", ")
}
