package behaviour

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/internal/wsclient"
)

// StompUpgradesWithABody are STOMP upgrades that announce a body. A proxy that read
// that body from a hijacked connection would make net/http panic in a goroutine that
// nothing recovers, so the middleware refuses them with 400 before the upgrade.
// Each body is, or holds, a CONNECT frame, so that a build which answers the upgrade
// reads it as the session's first frame and hands the rest on as the body.
var StompUpgradesWithABody = []struct {
	Name    string
	Headers map[string]string
	Body    []byte
}{
	{"Content-Length", map[string]string{"Content-Length": "4"}, connectBytes},
	{"chunked", map[string]string{"Transfer-Encoding": "chunked"},
		append(append([]byte(fmt.Sprintf("%x\r\n", len(connectBytes))), connectBytes...), "\r\n0\r\n\r\n"...)},
}

var connectBytes = wsclient.MaskedFrame(true, 0x1, []byte(wsclient.ConnectFrame("00123-001")))

// CheckStompUpgradeWithBody opens a STOMP session at base+path with headers that
// announce a body and that body, and returns what differs from a 400 that says why.
// When the upgrade is answered, it waits for the session's end: a build that hands
// the body on crashes then.
func CheckStompUpgradeWithBody(base, path string, headers map[string]string, body []byte) error {
	s, err := wsclient.DialWithBody(base, path, headers, body)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.Response.StatusCode == http.StatusSwitchingProtocols {
		return fmt.Errorf("an upgrade with a body was answered 101, then %v", s.ReadUntilClose())
	}
	answer, _ := io.ReadAll(io.LimitReader(s.Response.Body, 512))
	if s.Response.StatusCode != http.StatusBadRequest || !strings.Contains(string(answer), "body") || !oneLine(string(answer)) {
		return fmt.Errorf("an upgrade with a body got %d %q, want 400 with a one-line reason about its body", s.Response.StatusCode, answer)
	}
	return nil
}

// RunStompUpgradesWithABody checks every upgrade with a body against the middleware
// that build makes, in front of members that each serve STOMP. A build that hands the
// body on makes the process panic: run it in a process of its own.
func RunStompUpgradesWithABody(t *testing.T, build Builder) {
	server := stompServer(t, build, stompConfig(), "stomp-body", baseMembers)
	for _, u := range StompUpgradesWithABody {
		if err := CheckStompUpgradeWithBody(server.URL, stompPath, u.Headers, u.Body); err != nil {
			t.Errorf("%s: %v", u.Name, err)
		}
	}
}
