package storeaffinity

import (
	"testing"
	"time"
)

// TestRebalanceGraceValues pins what each rebalanceGrace value means; the behaviour
// suite's "grace off" case cannot wait out the 5 s default, so this is what tells
// "off" from a silent fallback to the default.
func TestRebalanceGraceValues(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 5 * time.Second, true},
		{"off", 0, true},
		{" off ", 0, true},
		{"0", 0, true},
		{"0s", 0, true},
		{"250ms", 250 * time.Millisecond, true},
		{"-1s", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, err := parseGrace(tt.value)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseGrace(%q) = %v, %v; want %v (ok=%v)", tt.value, got, err, tt.want, tt.ok)
		}
	}
}
