package storeaffinity

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strings"
)

// The first STOMP frame of an OpenPOS WebSocket names the device: its CONNECT (or
// STOMP) frame carries a deviceId header. These functions read it, and never more
// than maxStompConnectBytes, from the client's first WebSocket messages.

// maxStompConnectBytes bounds the WebSocket frames read before the CONNECT frame's
// headers end, pings and headers included: the OpenPOS client's CONNECT is well under
// 2 KiB. Every byte read is kept, to replay to the backend.
const maxStompConnectBytes = 16 << 10

// maxStompConnectFrames bounds the frames read before the CONNECT frame's headers
// end: each one rescans the message so far.
const maxStompConnectFrames = 64

// WebSocket close codes the STOMP path ends a session with (RFC 6455, IANA registry).
const (
	closeGoingAway      = 1001 // the backend ended the session without a close frame
	closeProtocolError  = 1002 // the client's frames are not WebSocket or STOMP as agreed
	closePolicy         = 1008 // no usable device ID, or no CONNECT in time
	closeTooBig         = 1009 // the frames before the CONNECT's headers end pass the bound
	closeServiceRestart = 1012 // the store moved: reconnect
	closeBadGateway     = 1014 // the backend refused, could not be reached, or disagreed
)

// stompError is how a STOMP session ends for the client: a close code and a one-line
// reason, after a STOMP ERROR frame when errorFrame is set.
type stompError struct {
	code       int
	reason     string
	errorFrame bool
}

func (e *stompError) Error() string { return e.reason }

// stompRefusal is the end of a session refused for reason: an ERROR frame, then code.
func stompRefusal(code int, reason string) *stompError {
	return &stompError{code: code, reason: reason, errorFrame: true}
}

var (
	errStompNotMasked  = stompRefusal(closeProtocolError, "a client frame is not masked")
	errStompCompressed = stompRefusal(closeProtocolError, "a frame is compressed, but no extension was agreed")
	errStompNoMessage  = stompRefusal(closeProtocolError, "the first frame is neither a text nor a binary WebSocket message")
	errStompTooBig     = stompRefusal(closeTooBig, "the frames before the CONNECT frame's headers end pass 16 KiB")
	errStompTooMany    = stompRefusal(closeTooBig, "more than 64 frames before the CONNECT frame's headers end")
	errStompOpcode     = stompRefusal(closeProtocolError, "a frame has a reserved opcode")
	errStompNotConnect = stompRefusal(closeProtocolError, "the first STOMP frame is not CONNECT or STOMP")
	errStompNoDevice   = stompRefusal(closePolicy, "the STOMP CONNECT frame carries no device ID")
	errStompTimeout    = stompRefusal(closePolicy, "no CONNECT frame within "+stompConnectTimeout.String())
	endStoreMoved      = &stompError{code: closeServiceRestart, reason: "the store moved to another member: reconnect"}
	endBackendGone     = &stompError{code: closeGoingAway, reason: "the backend ended the session"}
)

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPong         = 0xA
)

// readStompConnect reads WebSocket frames from r until the headers of the first STOMP
// frame have ended, and returns those header lines, or why the session is refused, or
// the error of reading r. Control frames (pings) are skipped; r should record what it
// reads, for the backend to receive it as sent.
func readStompConnect(r io.Reader) (string, *stompError, error) {
	var message []byte
	var header [14]byte
	read := 0
	for frames := 1; ; frames++ {
		if frames > maxStompConnectFrames {
			return "", errStompTooMany, nil
		}
		if _, err := io.ReadFull(r, header[:2]); err != nil {
			return "", nil, err
		}
		opcode := header[0] & 0x0f
		if opcode > opBinary && opcode < opClose || opcode > opPong {
			return "", errStompOpcode, nil
		}
		if header[0]&0x70 != 0 {
			return "", errStompCompressed, nil
		}
		if header[1]&0x80 == 0 {
			return "", errStompNotMasked, nil
		}
		size := uint64(header[1] & 0x7f)
		extra := 0
		switch size {
		case 126:
			extra = 2
		case 127:
			extra = 8
		}
		if _, err := io.ReadFull(r, header[2:2+extra+4]); err != nil {
			return "", nil, err
		}
		switch extra {
		case 2:
			size = uint64(binary.BigEndian.Uint16(header[2:4]))
		case 8:
			size = binary.BigEndian.Uint64(header[2:10])
		}
		read += 2 + extra + 4
		if read > maxStompConnectBytes || size > uint64(maxStompConnectBytes-read) {
			return "", errStompTooBig, nil
		}
		read += int(size)
		payload := make([]byte, int(size))
		if _, err := io.ReadFull(r, payload); err != nil {
			return "", nil, err
		}
		mask := header[2+extra : 2+extra+4]
		subtle.XORBytes(payload, payload, bytes.Repeat(mask, len(payload)/4+1)[:len(payload)])
		switch {
		case opcode == opClose:
			return "", nil, io.EOF // the client closed before its CONNECT frame
		case opcode&0x8 != 0:
			continue // a ping or pong between the fragments
		case len(message) == 0 && opcode != opText && opcode != opBinary:
			return "", errStompNoMessage, nil
		}
		message = append(message, payload...)
		if headers, done, refusal := stompHeaders(message); done || refusal != nil {
			return headers, refusal, nil
		}
	}
}

// stompHeaders returns the header lines of the STOMP frame at the start of message,
// and whether they have ended. Heart-beat EOLs before the frame are skipped.
func stompHeaders(message []byte) (headers string, done bool, refusal *stompError) {
	frame := strings.TrimLeft(string(message), "\r\n")
	command, rest, found := strings.Cut(frame, "\n")
	if !found {
		return "", false, nil
	}
	if command = strings.TrimSuffix(command, "\r"); command != "CONNECT" && command != "STOMP" {
		return "", true, errStompNotConnect
	}
	if strings.HasPrefix(rest, "\n") || strings.HasPrefix(rest, "\r\n") {
		return "", true, nil // no headers at all
	}
	end := strings.Index(rest, "\n\n")
	if crlf := strings.Index(rest, "\n\r\n"); crlf >= 0 && (end < 0 || crlf < end) {
		end = crlf
	}
	if end < 0 {
		return "", false, nil
	}
	return rest[:end+1], true, nil
}

// stompHeaderValue returns the value of header name in a CONNECT frame's header lines,
// and whether it is there. CONNECT headers are not escaped; a repeated header with
// another value is refused, since a backend may read either.
func stompHeaderValue(headers, name string) (value string, found bool, err error) {
	prefix := name + ":"
	for _, line := range strings.Split(headers, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		v := strings.TrimSuffix(line[len(prefix):], "\r")
		if found && v != value {
			return "", true, errDeviceIDTwice
		}
		value, found = v, true
	}
	return value, found, nil
}

// wsAccept returns the Sec-WebSocket-Accept value for a client's key (RFC 6455 4.2.2).
func wsAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// wsFrame returns an unmasked server frame of opcode with payload.
func wsFrame(opcode byte, payload []byte) []byte {
	frame := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		frame = append(frame, byte(n))
	case n <= 0xffff:
		frame = append(frame, 126, byte(n>>8), byte(n))
	default:
		frame = append(frame, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(frame, payload...)
}

// wsClose returns a close frame with code and a reason cut to fit a control frame.
func wsClose(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	return wsFrame(opClose, append([]byte{byte(code >> 8), byte(code)}, reason...))
}

// stompErrorFrame returns a text frame holding a STOMP ERROR frame with message.
func stompErrorFrame(message string) []byte {
	message = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r", ":", "\\c").Replace(message)
	return wsFrame(opText, []byte("ERROR\ncontent-type:text/plain\nmessage:"+message+"\n\n"+message+"\x00"))
}

// serverFrameEnd returns how many bytes of p the server frame that starts p spans,
// with its opcode, or ok false when p does not hold the whole frame header.
func serverFrameEnd(p []byte) (size uint64, opcode byte, ok bool) {
	if len(p) < 2 {
		return 0, 0, false
	}
	opcode = p[0] & 0x0f
	size = uint64(p[1] & 0x7f)
	head := uint64(2)
	if p[1]&0x80 != 0 {
		head += 4
	}
	switch size {
	case 126:
		if len(p) < 4 {
			return 0, 0, false
		}
		size, head = uint64(binary.BigEndian.Uint16(p[2:4])), head+2
	case 127:
		if len(p) < 10 {
			return 0, 0, false
		}
		size, head = binary.BigEndian.Uint64(p[2:10]), head+8
	}
	return head + size, opcode, true
}

// ConnectFrameDeviceID returns the device ID that header names in the first STOMP
// frame of a session, as the middleware reads it on a stompConnectPaths path, and
// whether the frame names one. It refuses a frame that is not CONNECT or STOMP, whose
// headers do not end, or that names two different device IDs. The operator CLI uses
// it to route a captured frame.
func ConnectFrameDeviceID(frame, header string) (deviceID string, found bool, err error) {
	headers, done, refusal := stompHeaders([]byte(frame))
	if refusal != nil {
		return "", false, refusal
	}
	if !done {
		return "", false, errors.New("the STOMP frame's headers do not end with an empty line")
	}
	return stompHeaderValue(headers, header)
}
