package commerce_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

func startReplica(t *testing.T, name string) *commerce.Replica {
	t.Helper()
	r, err := commerce.Start(name, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestStoreDevicesShareStateOnOneReplica(t *testing.T) {
	r := startReplica(t, "pos-0")
	ctx := context.Background()
	client := fleet.NewClient(r.URL())
	conn, hello, _, err := client.Dial(ctx, "00001-002")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if hello.Replica != "pos-0" || hello.Store != "00001" || hello.Seq != 1 {
		t.Fatalf("greeting %+v", hello)
	}
	resp, err := client.Ticket(ctx, "00001-001")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Reply.Replica != "pos-0" || resp.Reply.Seq != 2 {
		t.Fatalf("ticket %+v, want seq 2 from pos-0", resp.Reply)
	}
	report := r.Report()
	if len(report.Stores) != 1 || report.Stores[0] != "00001" {
		t.Fatalf("stores %v", report.Stores)
	}
	if live := r.Log().LiveSessions(); len(live) != 1 || live[0].Device != "00001-002" {
		t.Fatalf("live sessions %+v", live)
	}
}

func TestSocketEndsWhenReplicaCloses(t *testing.T) {
	r, err := commerce.Start("pos-1", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, _, err := fleet.NewClient(r.URL()).Dial(ctx, "00002-001")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	_ = r.Close()
	if _, _, err := conn.Read(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("socket still open after Close: %v", err)
	}
}

func TestEventsAreFlushedOneByOne(t *testing.T) {
	r := startReplica(t, "pos-2")
	resp, err := http.Get(r.URL() + fleet.DevicePath("00003-001", commerce.EventsPath) + "?count=3&interval=20ms")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := 0
	err = commerce.ReadEvents(resp.Body, func(event commerce.Event) error {
		if delay := time.Since(time.Unix(0, event.Sent)); delay > 50*time.Millisecond {
			t.Errorf("event %d arrived %v after it was sent", events, delay)
		}
		events++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if events != 3 {
		t.Fatalf("got %d events, want 3", events)
	}
}
