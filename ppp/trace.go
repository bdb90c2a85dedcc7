package ppp

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// TracePacket renders one PPP packet — the Protocol field's value and the
// Information field — the way pppd's debug trace does, which network
// engineers read at a glance:
//
//	LCP ConfReq id=0x1 <mru 1480> <auth pap> <magic 0x1a2b3c4d>
//	PAP AuthReq id=0x1 user="MT-User" password=<hidden>
//	CHAP Challenge id=0x1 <2f1e…>, name = "MikroTik"
//	IPCP ConfAck id=0x1 <addr 10.0.0.2>
//
// A PAP password is never shown, whatever the packet holds (pppd's
// hide-password). Bytes that do not decode are shown in hex; the function
// never fails.
func TracePacket(proto Protocol, b []byte) string {
	var sb strings.Builder
	sb.WriteString(traceProtoName(proto))
	switch proto {
	case ProtoLCP, ProtoIPCP, ProtoPAP, ProtoCHAP, ProtoIPV6CP, ProtoCCP:
	default:
		fmt.Fprintf(&sb, " len=%d", len(b))
		return sb.String()
	}
	pkt, err := ParsePacket(b)
	if err != nil {
		fmt.Fprintf(&sb, " malformed %x", b)
		return sb.String()
	}
	code, data := pkt.Code(), pkt.Data()
	fmt.Fprintf(&sb, " %s id=0x%x", traceCodeName(proto, code), pkt.Identifier())
	switch proto {
	case ProtoPAP:
		tracePAP(&sb, pkt)
		return sb.String()
	case ProtoCHAP:
		traceCHAP(&sb, pkt)
		return sb.String()
	}
	switch {
	case code >= CodeConfigureRequest && code <= CodeConfigureReject:
		if o := optionsString(proto, data); o != "" {
			sb.WriteString(" " + o)
		}
	case code == CodeTerminateRequest || code == CodeTerminateAck:
		if len(data) > 0 {
			sb.WriteString(" " + quoted(data))
		}
	case proto == ProtoLCP && (code == CodeEchoRequest || code == CodeEchoReply || code == CodeDiscardRequest) && len(data) >= 4:
		// RFC 1661 §5.8: the Magic-Number first.
		fmt.Fprintf(&sb, " magic=0x%x", binary.BigEndian.Uint32(data))
		if len(data) > 4 {
			fmt.Fprintf(&sb, " %x", data[4:])
		}
	case proto == ProtoLCP && code == CodeProtocolReject && len(data) >= 2:
		// RFC 1661 §5.7: the rejected protocol, then its packet.
		fmt.Fprintf(&sb, " proto=0x%04x", binary.BigEndian.Uint16(data))
	case len(data) > 0:
		fmt.Fprintf(&sb, " %x", data)
	}
	return sb.String()
}

func tracePAP(sb *strings.Builder, pkt Packet) {
	p, err := ParsePAP(pkt)
	if err != nil {
		// Even a malformed Authenticate-Request may hold a password:
		// its bytes are not shown.
		sb.WriteString(" <malformed>")
		return
	}
	switch p.Code {
	case PAPAuthRequest:
		fmt.Fprintf(sb, " user=%s password=<hidden>", quoted(p.PeerID))
	default:
		if len(p.Message) > 0 {
			sb.WriteString(" " + quoted(p.Message))
		}
	}
}

func traceCHAP(sb *strings.Builder, pkt Packet) {
	p, err := ParseCHAP(pkt)
	if err != nil {
		fmt.Fprintf(sb, " %x", pkt.Data())
		return
	}
	switch p.Code {
	case CHAPChallenge, CHAPResponse:
		// The Value is a random challenge or a one-way hash (RFC
		// 1994 §4.1, RFC 2759 §4): no secret in it.
		fmt.Fprintf(sb, " <%x>, name = %s", p.Value, quoted(p.Name))
	default:
		if len(p.Message) > 0 {
			sb.WriteString(" " + quoted(p.Message))
		}
	}
}

// quoted is b as a Go-quoted string: printable, one line, whatever the
// peer sent.
func quoted(b []byte) string { return fmt.Sprintf("%q", b) }

func traceProtoName(p Protocol) string {
	switch p {
	case ProtoLCP:
		return "LCP"
	case ProtoIPCP:
		return "IPCP"
	case ProtoPAP:
		return "PAP"
	case ProtoCHAP:
		return "CHAP"
	case ProtoIPV6CP:
		return "IPV6CP"
	case ProtoCCP:
		return "CCP"
	case ProtoIPv4:
		return "IP"
	case ProtoIPv6:
		return "IPv6"
	}
	return fmt.Sprintf("proto=0x%04x", uint16(p))
}

// traceCodeName is pppd's short name of a code.
func traceCodeName(p Protocol, c Code) string {
	switch p {
	case ProtoPAP:
		switch c {
		case PAPAuthRequest:
			return "AuthReq"
		case PAPAuthAck:
			return "AuthAck"
		case PAPAuthNak:
			return "AuthNak"
		}
	case ProtoCHAP:
		return codeName(p, c)
	default:
		switch c {
		case CodeConfigureRequest:
			return "ConfReq"
		case CodeConfigureAck:
			return "ConfAck"
		case CodeConfigureNak:
			return "ConfNak"
		case CodeConfigureReject:
			return "ConfRej"
		case CodeTerminateRequest:
			return "TermReq"
		case CodeTerminateAck:
			return "TermAck"
		case CodeCodeReject:
			return "CodeRej"
		case CodeProtocolReject:
			return "ProtRej"
		case CodeEchoRequest:
			return "EchoReq"
		case CodeEchoReply:
			return "EchoRep"
		case CodeDiscardRequest:
			return "DiscReq"
		}
	}
	return fmt.Sprintf("code=0x%x", uint8(c))
}
