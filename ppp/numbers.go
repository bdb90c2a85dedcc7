package ppp

import "fmt"

// Protocol is the PPP Protocol field (RFC 1661 §2): which protocol the
// Information field carries. Values from IANA's "PPP DLL Protocol Numbers".
type Protocol uint16

// Protocol numbers this stack knows by name.
const (
	ProtoIPv4   Protocol = 0x0021 // Internet Protocol version 4 (RFC 1332)
	ProtoMP     Protocol = 0x003d // Multilink (RFC 1990)
	ProtoIPv6   Protocol = 0x0057 // Internet Protocol version 6 (RFC 5072)
	ProtoIPCP   Protocol = 0x8021 // IP Control Protocol (RFC 1332)
	ProtoIPV6CP Protocol = 0x8057 // IPv6 Control Protocol (RFC 5072)
	ProtoCCP    Protocol = 0x80fd // Compression Control Protocol (RFC 1962)
	ProtoLCP    Protocol = 0xc021 // Link Control Protocol (RFC 1661)
	ProtoPAP    Protocol = 0xc023 // Password Authentication Protocol (RFC 1334)
	ProtoLQR    Protocol = 0xc025 // Link Quality Report (RFC 1989)
	ProtoCHAP   Protocol = 0xc223 // Challenge Handshake Authentication Protocol (RFC 1994)
	ProtoEAP    Protocol = 0xc227 // Extensible Authentication Protocol (RFC 3748)
)

func (p Protocol) String() string {
	switch p {
	case ProtoIPv4:
		return "IPv4"
	case ProtoMP:
		return "MP"
	case ProtoIPv6:
		return "IPv6"
	case ProtoIPCP:
		return "IPCP"
	case ProtoIPV6CP:
		return "IPV6CP"
	case ProtoCCP:
		return "CCP"
	case ProtoLCP:
		return "LCP"
	case ProtoPAP:
		return "PAP"
	case ProtoLQR:
		return "LQR"
	case ProtoCHAP:
		return "CHAP"
	case ProtoEAP:
		return "EAP"
	}
	return fmt.Sprintf("0x%04x", uint16(p))
}

// Code is the Code field of an LCP or NCP packet (RFC 1661 §5). PAP and CHAP
// reuse the field with their own values (see the PAP* and CHAP* constants).
type Code uint8

// LCP codes (RFC 1661 §5); IPCP uses 1–7 (RFC 1332 §2).
const (
	CodeConfigureRequest Code = 1  // §5.1
	CodeConfigureAck     Code = 2  // §5.2
	CodeConfigureNak     Code = 3  // §5.3
	CodeConfigureReject  Code = 4  // §5.4
	CodeTerminateRequest Code = 5  // §5.5
	CodeTerminateAck     Code = 6  // §5.5
	CodeCodeReject       Code = 7  // §5.6
	CodeProtocolReject   Code = 8  // §5.7
	CodeEchoRequest      Code = 9  // §5.8
	CodeEchoReply        Code = 10 // §5.8
	CodeDiscardRequest   Code = 11 // §5.9
)

// PAP codes (RFC 1334 §2.2).
const (
	PAPAuthRequest Code = 1
	PAPAuthAck     Code = 2
	PAPAuthNak     Code = 3
)

// CHAP codes (RFC 1994 §4), shared by MS-CHAP (RFC 2433, RFC 2759).
const (
	CHAPChallenge Code = 1
	CHAPResponse  Code = 2
	CHAPSuccess   Code = 3
	CHAPFailure   Code = 4
)

func (c Code) String() string {
	switch c {
	case CodeConfigureRequest:
		return "Configure-Request"
	case CodeConfigureAck:
		return "Configure-Ack"
	case CodeConfigureNak:
		return "Configure-Nak"
	case CodeConfigureReject:
		return "Configure-Reject"
	case CodeTerminateRequest:
		return "Terminate-Request"
	case CodeTerminateAck:
		return "Terminate-Ack"
	case CodeCodeReject:
		return "Code-Reject"
	case CodeProtocolReject:
		return "Protocol-Reject"
	case CodeEchoRequest:
		return "Echo-Request"
	case CodeEchoReply:
		return "Echo-Reply"
	case CodeDiscardRequest:
		return "Discard-Request"
	}
	return fmt.Sprintf("code-%d", uint8(c))
}

// codeName names a code the way the protocol that carries it does.
func codeName(p Protocol, c Code) string {
	switch p {
	case ProtoPAP:
		switch c {
		case PAPAuthRequest:
			return "Authenticate-Request"
		case PAPAuthAck:
			return "Authenticate-Ack"
		case PAPAuthNak:
			return "Authenticate-Nak"
		}
	case ProtoCHAP:
		switch c {
		case CHAPChallenge:
			return "Challenge"
		case CHAPResponse:
			return "Response"
		case CHAPSuccess:
			return "Success"
		case CHAPFailure:
			return "Failure"
		}
	}
	return c.String()
}

// LCP configuration option types (RFC 1661 §6, RFC 1990 §5.1, IANA).
const (
	LCPOptMRU          uint8 = 1  // Maximum-Receive-Unit, RFC 1661 §6.1
	LCPOptACCM         uint8 = 2  // Async-Control-Character-Map, RFC 1662 §7.1
	LCPOptAuthProtocol uint8 = 3  // Authentication-Protocol, RFC 1661 §6.2
	LCPOptQuality      uint8 = 4  // Quality-Protocol, RFC 1661 §6.3
	LCPOptMagic        uint8 = 5  // Magic-Number, RFC 1661 §6.4
	LCPOptPFC          uint8 = 7  // Protocol-Field-Compression, RFC 1661 §6.5
	LCPOptACFC         uint8 = 8  // Address-and-Control-Field-Compression, RFC 1661 §6.6
	LCPOptFCSAlt       uint8 = 9  // FCS-Alternatives, RFC 1570 §2.1
	LCPOptCallback     uint8 = 13 // Callback, RFC 1570 §2.3
	LCPOptMRRU         uint8 = 17 // Multilink MRRU, RFC 1990 §5.1.1
	LCPOptShortSeq     uint8 = 18 // Multilink Short Sequence Number Header, RFC 1990 §5.1.2
	LCPOptEndpoint     uint8 = 19 // Endpoint Discriminator, RFC 1990 §5.1.3
)

// IPCP configuration option types (RFC 1332 §3, RFC 1877 §1).
const (
	IPCPOptAddresses     uint8 = 1   // IP-Addresses (deprecated), RFC 1172
	IPCPOptCompression   uint8 = 2   // IP-Compression-Protocol, RFC 1332 §3.2
	IPCPOptAddress       uint8 = 3   // IP-Address, RFC 1332 §3.3
	IPCPOptPrimaryDNS    uint8 = 129 // Primary DNS Server Address, RFC 1877 §1.1
	IPCPOptPrimaryNBNS   uint8 = 130 // Primary NBNS Server Address, RFC 1877 §1.2
	IPCPOptSecondaryDNS  uint8 = 131 // Secondary DNS Server Address, RFC 1877 §1.3
	IPCPOptSecondaryNBNS uint8 = 132 // Secondary NBNS Server Address, RFC 1877 §1.4
)

// CHAP Algorithm values carried in the LCP Authentication-Protocol option
// (RFC 1994 §3, RFC 2433 §2, RFC 2759 §2).
const (
	CHAPAlgMD5  uint8 = 5
	CHAPAlgMSv1 uint8 = 0x80
	CHAPAlgMSv2 uint8 = 0x81
)

// Phase is a PPP link phase (RFC 1661 §3.2).
type Phase uint8

// Link phases, in the order a session goes through them.
const (
	PhaseDead Phase = iota
	PhaseEstablish
	PhaseAuthenticate
	PhaseNetwork
	PhaseTerminate
)

func (p Phase) String() string {
	switch p {
	case PhaseDead:
		return "dead"
	case PhaseEstablish:
		return "establish"
	case PhaseAuthenticate:
		return "authenticate"
	case PhaseNetwork:
		return "network"
	case PhaseTerminate:
		return "terminate"
	}
	return fmt.Sprintf("phase-%d", uint8(p))
}
