// Package wire is the STOMP session's wire: WebSocket framing, the reading of the
// first STOMP frame (CONNECT) that names the device, and the handshake the middleware
// answers itself. It imports the standard library only, and is interpreted by Yaegi
// with the middleware.
package wire

import "time"

// WebSocket close codes a STOMP session ends with (RFC 6455, IANA registry).
const (
	CloseGoingAway      = 1001 // the backend ended the session without a close frame
	CloseProtocolError  = 1002 // the client's frames are not WebSocket or STOMP as agreed
	ClosePolicy         = 1008 // no usable device ID, or no CONNECT in time
	CloseTooBig         = 1009 // the frames before the CONNECT's headers end pass the bound
	CloseServiceRestart = 1012 // the store moved: reconnect
	CloseBadGateway     = 1014 // the backend refused, could not be reached, or disagreed
)

// ConnectTimeout bounds the wait for the CONNECT frame after the handshake.
const ConnectTimeout = 10 * time.Second

// Ending is how a STOMP session ends for the client: a close code and a one-line
// reason, after a STOMP ERROR frame when ErrorFrame is set.
type Ending struct {
	Code       int
	Reason     string
	ErrorFrame bool
}

// Error returns the reason.
func (e *Ending) Error() string { return e.Reason }

// Refusal is the end of a session refused for reason: an ERROR frame, then code.
func Refusal(code int, reason string) *Ending {
	return &Ending{Code: code, Reason: reason, ErrorFrame: true}
}

// Refusals of a session's first frames.
var (
	ErrNotMasked  = Refusal(CloseProtocolError, "a client frame is not masked")
	ErrCompressed = Refusal(CloseProtocolError, "a frame is compressed, but no extension was agreed")
	ErrNoMessage  = Refusal(CloseProtocolError, "the first frame is neither a text nor a binary WebSocket message")
	ErrTooBig     = Refusal(CloseTooBig, "the frames before the CONNECT frame's headers end pass 16 KiB")
	ErrTooMany    = Refusal(CloseTooBig, "more than 64 frames before the CONNECT frame's headers end")
	ErrOpcode     = Refusal(CloseProtocolError, "a frame has a reserved opcode")
	ErrNotConnect = Refusal(CloseProtocolError, "the first STOMP frame is not CONNECT or STOMP")
	ErrNoDevice   = Refusal(ClosePolicy, "the STOMP CONNECT frame carries no device ID")
	ErrTimeout    = Refusal(ClosePolicy, "no CONNECT frame within "+ConnectTimeout.String())
)
