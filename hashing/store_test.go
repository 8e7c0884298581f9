package hashing

import (
	"strings"
	"testing"
)

func TestCheckDeviceID(t *testing.T) {
	cases := []struct {
		id     string
		reason string // "" when valid
	}{
		{"00123-001", ""},
		{"store.a-pos_1", ""},
		{"", "empty"},
		{strings.Repeat("1", 129), "longer than 128"},
		{"A~z.9_0-1", ""},
		{"001/23-001", "character other than"},
		{`001\23-001`, "character other than"},
		{"00123-0\x0001", "character other than"},
		{"00123-0\x7f1", "character other than"},
		{"00001; member=pos-0; x=0-001", "character other than"},
		{"00123-a%2D1", "character other than"},
		{"a=b-1", "character other than"},
		{"a,b-1", "character other than"},
		{"München-1", "character other than"},
		{"..-001", `".."`},
	}
	for _, tc := range cases {
		err := CheckDeviceID(tc.id)
		if tc.reason == "" {
			if err != nil {
				t.Errorf("CheckDeviceID(%q) = %v, want nil", tc.id, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("CheckDeviceID(%q) = %v, want an error mentioning %q", tc.id, err, tc.reason)
		}
	}
}

func TestStoreDerivation(t *testing.T) {
	cases := []struct {
		pattern, device, store string
		ok                     bool
	}{
		{"", "00123-001", "00123", true},
		{"", "eu-00123-001", "eu-00123", true},
		{"", "00123", "", false},
		{"", "-001", "", false},
		{`^(?P<store>\d{5})\d{3}$`, "00123001", "00123", true},
		{`^(?P<store>\d{5})\d{3}$`, "00123-001", "", false},
		{`^(?P<store>[a-z]*)-`, "-001", "", false},
	}
	for _, tc := range cases {
		d, err := NewStoreDeriver(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		store, err := d.Store(tc.device)
		if (err == nil) != tc.ok || store != tc.store {
			t.Errorf("pattern %q, device %q: got (%q, %v), want store %q ok=%v", tc.pattern, tc.device, store, err, tc.store, tc.ok)
		}
	}
}

func TestStoreIDPatternErrorsNameTheKey(t *testing.T) {
	for _, pattern := range []string{"(", `^(\d+)-`} {
		if _, err := NewStoreDeriver(pattern); err == nil || !strings.Contains(err.Error(), "storeIdPattern") {
			t.Errorf("pattern %q: error %v, want one naming storeIdPattern", pattern, err)
		}
	}
}

// FuzzStoreDerivation checks that derivation never panics and that every accepted
// device ID yields a non-empty store taken from the device ID.
func FuzzStoreDerivation(f *testing.F) {
	for _, seed := range []string{"00123-001", "", "-", "a-b-c", "..-1", "x/y-1", "\x00-1", strings.Repeat("9", 130) + "-1", "München-1"} {
		f.Add(seed)
	}
	d, err := NewStoreDeriver("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, device string) {
		if CheckDeviceID(device) != nil {
			return
		}
		store, err := d.Store(device)
		if err != nil {
			return
		}
		if store == "" || !strings.HasPrefix(device, store+"-") {
			t.Fatalf("device %q gave store %q", device, store)
		}
	})
}
