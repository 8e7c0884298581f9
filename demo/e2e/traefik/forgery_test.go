package traefik

import (
	"net/http"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// TestClientCannotPickReplica: a forged sticky cookie or X-Store-Affinity header changes
// neither a store's replica (REST and WebSocket) nor the round-robin of stateless calls;
// the backend sees the middleware's values only, and the client's other cookies survive.
func TestClientCannotPickReplica(t *testing.T) {
	e := start(t, setup{})
	stores := fleet.StoreIDs(30)
	owner := e.restOwners(t, stores)
	names := e.replicas.Names()
	forgeries := []struct {
		name   string
		header func(store, target string) http.Header
	}{
		{"sticky cookie of another member", func(_, target string) http.Header {
			return http.Header{"Cookie": {stickyCookie + "=" + stickyValue(member(target))}}
		}},
		{"X-Store-Affinity naming another member", func(store, target string) http.Header {
			return http.Header{"X-Store-Affinity": {affinity(store, member(target))}}
		}},
		{"both, between other cookies", func(store, target string) http.Header {
			return http.Header{
				"Cookie":           {"session=abc; " + stickyCookie + "=" + stickyValue(member(target)) + "; theme=dark"},
				"X-Store-Affinity": {affinity(store, member(target))},
			}
		}},
	}
	for _, forgery := range forgeries {
		t.Run(forgery.name, func(t *testing.T) {
			for i, store := range stores {
				target := names[(indexOf(names, owner[store])+1+i%2)%len(names)] // never the owner
				forged := *e.client
				forged.Header = forgery.header(store, target)
				resp, err := forged.Ticket(e.ctx, store+"-"+fleet.CX)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Reply.Replica != owner[store] {
					t.Errorf("store %s: forged request reached %s, want %s", store, resp.Reply.Replica, owner[store])
				}
				if resp.Reply.Affinity != affinity(store, member(owner[store])) {
					t.Errorf("store %s: backend saw X-Store-Affinity %q", store, resp.Reply.Affinity)
				}
				checkCookies(t, resp.Reply.Cookie, owner[store], forged.Header.Get("Cookie"))
				if i < 3 {
					conn, hello, _, err := forged.Dial(e.ctx, store+"-"+fleet.POS)
					if err != nil {
						t.Fatal(err)
					}
					conn.CloseNow()
					if hello.Replica != owner[store] {
						t.Errorf("store %s: forged WebSocket reached %s, want %s", store, hello.Replica, owner[store])
					}
				}
			}
			forged := *e.client
			forged.Header = forgery.header("00000", names[0])
			seen := map[string]int{}
			for i := 0; i < 30; i++ {
				resp, err := forged.Get(e.ctx, "/api/catalog")
				if err != nil {
					t.Fatal(err)
				}
				seen[resp.Reply.Replica]++
			}
			if len(seen) != len(names) {
				t.Errorf("forged stateless requests reached only %v", seen)
			}
		})
	}
}

// checkCookies checks that the backend got exactly one sticky cookie, the owner's, and
// every other cookie the client sent.
func checkCookies(t *testing.T, got, owner, sent string) {
	t.Helper()
	sticky := 0
	for _, c := range strings.Split(got, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(c), "=")
		if name == stickyCookie {
			sticky++
			if value != stickyValue(member(owner)) {
				t.Errorf("backend got sticky cookie %q, want the owner's %q", value, stickyValue(member(owner)))
			}
		}
	}
	if sticky != 1 {
		t.Errorf("backend got Cookie %q: %d sticky cookies, want 1", got, sticky)
	}
	for _, c := range strings.Split(sent, ";") {
		c = strings.TrimSpace(c)
		if c != "" && !strings.HasPrefix(c, stickyCookie+"=") && !strings.Contains(got, c) {
			t.Errorf("backend lost the client's cookie %q (got %q)", c, got)
		}
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
