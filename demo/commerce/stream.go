package commerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// liveConn is a WebSocket or stream that Close must end.
type liveConn struct{ cancel context.CancelFunc }

// track registers a live request so that Close can end it, and returns its context.
func (r *Replica) track(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	c := &liveConn{cancel: cancel}
	r.mu.Lock()
	r.live[c] = struct{}{}
	r.mu.Unlock()
	return ctx, func() {
		cancel()
		r.mu.Lock()
		delete(r.live, c)
		r.mu.Unlock()
	}
}

// serveSocket holds a device's WebSocket. It greets the device with a Reply and answers
// every message with the next Reply of the store, until either side closes.
func (r *Replica) serveSocket(w http.ResponseWriter, req *http.Request, store, device string) {
	conn, err := websocket.Accept(w, req, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx, untrack := r.track(req.Context())
	defer untrack()
	end := r.log.Open(store, device, KindWebSocket)
	defer end()
	for {
		body, err := json.Marshal(r.reply(req, store, device))
		if err != nil {
			return
		}
		if err := conn.Write(ctx, websocket.MessageText, body); err != nil {
			return
		}
		if _, _, err := conn.Read(ctx); err != nil {
			return
		}
	}
}

// Event is the data of one server-sent event.
type Event struct {
	Reply
	// Sent is when the replica flushed the event, in Unix nanoseconds.
	Sent int64 `json:"sent"`
}

// serveEvents streams server-sent events: count events (0: until the client leaves),
// one every interval (default 1s), each flushed at once.
func (r *Replica) serveEvents(w http.ResponseWriter, req *http.Request, store, device string) {
	count, _ := strconv.Atoi(req.URL.Query().Get("count"))
	interval, err := time.ParseDuration(req.URL.Query().Get("interval"))
	if err != nil || interval <= 0 {
		interval = time.Second
	}
	ctx, untrack := r.track(req.Context())
	defer untrack()
	end := r.log.Open(store, device, KindEvents)
	defer end()
	controller := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if controller.Flush() != nil {
		return
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for i := 1; count == 0 || i <= count; i++ {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		event := Event{Reply: r.reply(req, store, device), Sent: time.Now().UnixNano()}
		body, err := json.Marshal(event)
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", i, body); err != nil {
			return
		}
		if controller.Flush() != nil {
			return
		}
	}
}
