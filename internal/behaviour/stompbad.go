package behaviour

import (
	"fmt"
	"strings"

	"github.com/storeaffinity/storeaffinity/internal/wsclient"
)

// BadStompOpening is a first message of a STOMP session that the middleware answers
// with an ERROR frame, then a close with Code and a reason that contains Want.
type BadStompOpening struct {
	Name  string
	First string
	Code  int
	Want  string
}

// BadStompOpenings are the bad first messages every build and Traefik must end.
var BadStompOpenings = []BadStompOpening{
	{"a first frame that is not CONNECT", "SUBSCRIBE\nid:1\ndestination:/topic/x\n\n\x00", 1002, "not CONNECT"},
	{"a CONNECT without a device ID", wsclient.ConnectFrame(""), 1008, "no device ID"},
	{"an invalid device ID", wsclient.ConnectFrame("bad id!"), 1008, "device ID"},
	{"two device IDs", wsclient.ConnectFrame("00123-001", "deviceId:00456-001"), 1008, "two different device IDs"},
	{"frames past 16 KiB", strings.Repeat("x", 17<<10), 1009, "16 KiB"},
	{"CONNECT headers that never end within 16 KiB", "CONNECT\n" + strings.Repeat("h:v\n", 5000), 1009, "16 KiB"},
}

// CheckBadStompOpening opens a session at base+path, sends o.First, and returns what
// differs from the ending o describes, or nil.
func CheckBadStompOpening(base, path string, o BadStompOpening) error {
	s, err := wsclient.DialSession(base, path)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SendText(o.First); err != nil {
		return err
	}
	// The first frame, read alone, so that a session served instead fails at once.
	f, err := s.Read()
	if err != nil || f.Opcode != 0x1 || !strings.HasPrefix(string(f.Payload), "ERROR\n") {
		return fmt.Errorf("first frame %.200q (opcode %d, %v), want an ERROR frame, then close %d saying %q", f.Payload, f.Opcode, err, o.Code, o.Want)
	}
	end := s.ReadUntilClose()
	if end.Code != o.Code || !strings.Contains(end.Reason, o.Want) || len(end.Frames) != 0 {
		return fmt.Errorf("an ERROR frame, then %v, want close %d saying %q", end, o.Code, o.Want)
	}
	return nil
}
