package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
)

// noRESTFailed matches the end of a summary in which no REST call failed.
var noRESTFailed = regexp.MustCompile(`, 0 of [1-9][0-9]* REST calls failed$`)

// TestDemoRunsToItsSummary runs the whole demonstration with a small fleet: it fails if
// a store's devices end up apart, a store is split after the grace, or a REST call fails.
func TestDemoRunsToItsSummary(t *testing.T) {
	var out bytes.Buffer
	d := &demo{storeCount: 30, grace: time.Second, out: &out}
	defer d.close()
	summary, err := d.run(t.Context())
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{"30 stores, 3 -> 4 replicas", " 0 apart,", " 0 split after the grace,"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q lacks %q", summary, want)
		}
	}
	if !noRESTFailed.MatchString(summary) {
		t.Errorf("summary %q does not end with 0 failed REST calls", summary)
	}
	websockets := 0
	for _, report := range d.replicas.Reports() {
		for _, s := range report.Sessions {
			switch s.Kind {
			case commerce.KindStomp:
				websockets++
			case commerce.KindWebSocket:
				t.Errorf("replica %s served a WebSocket of %s by its path; the demo's devices use the OpenPOS STOMP WebSocket", report.Replica, s.Device)
			}
		}
	}
	if websockets < 2*30 {
		t.Errorf("the replicas saw %d STOMP sessions, want at least one per device", websockets)
	}
	if !strings.Contains(out.String(), "pos-3  ") {
		t.Errorf("the output shows no fourth replica:\n%s", out.String())
	}
	t.Log(summary)
}
