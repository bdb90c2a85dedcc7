package pppoe

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// TraceDiscovery renders a discovery frame (RFC 2516 §5) for the debug
// trace, in the style of pppd's packet lines:
//
//	PADI id=0x0000 02:ab:cd:00:00:02 > ff:ff:ff:ff:ff:ff <service-name "pppoeservice"> <host-uniq 1a2b3c4d>
//
// It reports false for a frame that is not a discovery frame. A frame
// that does not decode is shown as such, in hex; it never fails.
func TraceDiscovery(frame []byte) (string, bool) {
	var p Packet
	err := p.Decode(frame)
	if err == ErrNotPPPoE || p.EtherType != EtherTypeDiscovery {
		return "", false
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v id=%#04x %v > %v", p.Code, p.SessionID, p.Src, p.Dst)
	if p.Tagged {
		fmt.Fprintf(&sb, " vlan %d", p.VLANID())
	}
	if err != nil {
		fmt.Fprintf(&sb, " malformed (%v) %x", err, frame[min(len(frame), p.Ethernet.Len()):])
		return sb.String(), true
	}
	for _, t := range p.Tags {
		sb.WriteString(" <")
		sb.WriteString(traceTag(t))
		sb.WriteString(">")
	}
	return sb.String(), true
}

func traceTag(t Tag) string {
	name := strings.ToLower(t.Type.String())
	switch t.Type {
	case TagServiceName, TagACName, TagServiceNameError, TagACSystemError, TagGenericError:
		if utf8.Valid(t.Value) {
			return fmt.Sprintf("%s %q", name, t.Value)
		}
	case TagPPPMaxPayload:
		if len(t.Value) == 2 {
			return fmt.Sprintf("%s %d", name, binary.BigEndian.Uint16(t.Value))
		}
	case TagEndOfList:
		return name
	}
	return fmt.Sprintf("%s %x", name, t.Value)
}
