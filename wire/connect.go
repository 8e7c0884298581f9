package wire

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"
	"strings"
)

// The first STOMP frame of an OpenPOS WebSocket names the device: its CONNECT (or
// STOMP) frame carries a deviceId header. These functions read it, and never more
// than MaxConnectBytes, from the client's first WebSocket messages.

// ErrTwoDeviceIDs refuses a CONNECT frame that repeats the device-ID header with
// another value: a backend may read either.
var ErrTwoDeviceIDs = errors.New("the request carries two different device IDs")

// MaxConnectBytes bounds the WebSocket frames read before the CONNECT frame's
// headers end, pings and headers included: the OpenPOS client's CONNECT is well under
// 2 KiB. Every byte read is kept, to replay to the backend.
const MaxConnectBytes = 16 << 10

// maxConnectFrames bounds the frames read before the CONNECT frame's headers
// end: each one rescans the message so far.
const maxConnectFrames = 64

// ReadConnect reads WebSocket frames from r until the headers of the first STOMP
// frame have ended, and returns those header lines, or why the session is refused, or
// the error of reading r. Control frames (pings) are skipped; r should record what it
// reads, for the backend to receive it as sent.
func ReadConnect(r io.Reader) (string, *Ending, error) {
	var message []byte
	var header [14]byte
	read := 0
	for frames := 1; ; frames++ {
		if frames > maxConnectFrames {
			return "", ErrTooMany, nil
		}
		if _, err := io.ReadFull(r, header[:2]); err != nil {
			return "", nil, err
		}
		opcode := header[0] & 0x0f
		if opcode > opBinary && opcode < OpClose || opcode > opPong {
			return "", ErrOpcode, nil
		}
		if header[0]&0x70 != 0 {
			return "", ErrCompressed, nil
		}
		if header[1]&0x80 == 0 {
			return "", ErrNotMasked, nil
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
		if read > MaxConnectBytes || size > uint64(MaxConnectBytes-read) {
			return "", ErrTooBig, nil
		}
		read += int(size)
		payload := make([]byte, int(size))
		if _, err := io.ReadFull(r, payload); err != nil {
			return "", nil, err
		}
		mask := header[2+extra : 2+extra+4]
		subtle.XORBytes(payload, payload, bytes.Repeat(mask, len(payload)/4+1)[:len(payload)])
		switch {
		case opcode == OpClose:
			return "", nil, io.EOF // the client closed before its CONNECT frame
		case opcode&0x8 != 0:
			continue // a ping or pong between the fragments
		case len(message) == 0 && opcode != OpText && opcode != opBinary:
			return "", ErrNoMessage, nil
		}
		message = append(message, payload...)
		if headers, done, refusal := connectHeaders(message); done || refusal != nil {
			return headers, refusal, nil
		}
	}
}

// connectHeaders returns the header lines of the STOMP frame at the start of message,
// and whether they have ended. Heart-beat EOLs before the frame are skipped.
func connectHeaders(message []byte) (headers string, done bool, refusal *Ending) {
	frame := strings.TrimLeft(string(message), "\r\n")
	command, rest, found := strings.Cut(frame, "\n")
	if !found {
		return "", false, nil
	}
	if command = strings.TrimSuffix(command, "\r"); command != "CONNECT" && command != "STOMP" {
		return "", true, ErrNotConnect
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

// HeaderValue returns the value of header name in a CONNECT frame's header lines,
// and whether it is there. CONNECT headers are not escaped; a repeated header with
// another value is refused, since a backend may read either.
func HeaderValue(headers, name string) (value string, found bool, err error) {
	prefix := name + ":"
	for _, line := range strings.Split(headers, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		v := strings.TrimSuffix(line[len(prefix):], "\r")
		if found && v != value {
			return "", true, ErrTwoDeviceIDs
		}
		value, found = v, true
	}
	return value, found, nil
}

// ErrorFrame returns a text frame holding a STOMP ERROR frame with message.
func ErrorFrame(message string) []byte {
	message = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r", ":", "\\c").Replace(message)
	return Frame(OpText, []byte("ERROR\ncontent-type:text/plain\nmessage:"+message+"\n\n"+message+"\x00"))
}

// ConnectFrameDeviceID returns the device ID that header names in the first STOMP
// frame of a session, as the middleware reads it on a stompConnectPaths path, and
// whether the frame names one. It refuses a frame that is not CONNECT or STOMP, whose
// headers do not end, or that names two different device IDs. The operator CLI uses
// it to route a captured frame.
func ConnectFrameDeviceID(frame, header string) (deviceID string, found bool, err error) {
	headers, done, refusal := connectHeaders([]byte(frame))
	if refusal != nil {
		return "", false, refusal
	}
	if !done {
		return "", false, errors.New("the STOMP frame's headers do not end with an empty line")
	}
	return HeaderValue(headers, header)
}
