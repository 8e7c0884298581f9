package wire

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
)

// WebSocket opcodes.
const (
	opContinuation = 0x0
	OpText         = 0x1
	opBinary       = 0x2
	OpClose        = 0x8
	opPong         = 0xA
)

// Accept returns the Sec-WebSocket-Accept value for a client's key (RFC 6455 4.2.2).
func Accept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Frame returns an unmasked server frame of opcode with payload.
func Frame(opcode byte, payload []byte) []byte {
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

// Close returns a close frame with code and a reason cut to fit a control frame.
func Close(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	return Frame(OpClose, append([]byte{byte(code >> 8), byte(code)}, reason...))
}

// ServerFrameEnd returns how many bytes of p the server frame that starts p spans,
// with its opcode, or ok false when p does not hold the whole frame header.
func ServerFrameEnd(p []byte) (size uint64, opcode byte, ok bool) {
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
